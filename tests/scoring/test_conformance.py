"""One conformance suite over every registered instrument (scikit-learn's habit).

For random valid inputs drawn from each instrument's declared fields:
- the total lies in the instrument's declared range;
- raising any one item never lowers the total (monotonicity);
- a missing item follows the instrument's missing-item rule;
- bulk scoring of a batch equals single scoring row by row, to the bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pustula.errors import ScoringInputError
from pustula.scoring import list_instruments
from pustula.scoring.instrument import FieldSpec, Instrument

INSTRUMENTS = list_instruments()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def value_strategy(spec: FieldSpec) -> st.SearchStrategy[Any]:
    if spec.whole:
        return st.integers(int(spec.low), int(spec.high))
    return st.floats(spec.low, spec.high, allow_nan=False)


@st.composite
def assessments(draw: st.DrawFn, instrument: Instrument) -> dict[str, Any]:
    """A valid flat input: every plain field, and one field of each alternative group."""
    chosen: dict[str, Any] = {}
    groups: dict[str, list[FieldSpec]] = {}
    for spec in instrument.fields:
        if spec.group is None:
            chosen[spec.name] = draw(value_strategy(spec))
        else:
            groups.setdefault(spec.group, []).append(spec)
    # Within one assessment each group uses the same alternative, as a CSV would.
    pick = draw(st.integers(0, 1))
    for specs in groups.values():
        spec = specs[pick % len(specs)]
        chosen[spec.name] = draw(value_strategy(spec))
    return chosen


def raised(spec: FieldSpec, value: Any) -> Any:
    step = 1 if spec.whole else 7.5
    return min(value + step, spec.high)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.name)
@SETTINGS
@given(data=st.data())
def test_total_is_within_the_declared_range(instrument: Instrument, data: st.DataObject) -> None:
    result = instrument.score(data.draw(assessments(instrument)))
    low, high = instrument.total_range
    assert result.total is not None
    assert low <= result.total <= high
    assert (result.instrument, result.version) == (instrument.name, instrument.version)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.name)
@SETTINGS
@given(data=st.data())
def test_raising_one_item_never_lowers_the_total(
    instrument: Instrument, data: st.DataObject
) -> None:
    values = data.draw(assessments(instrument))
    specs = {s.name: s for s in instrument.fields}
    name = data.draw(st.sampled_from(sorted(values)))
    higher = {**values, name: raised(specs[name], values[name])}
    before, after = instrument.score(values).total, instrument.score(higher).total
    assert before is not None
    assert after is not None
    assert after >= before


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.name)
@SETTINGS
@given(data=st.data())
def test_missing_items_follow_the_instrument_rule(
    instrument: Instrument, data: st.DataObject
) -> None:
    values = data.draw(assessments(instrument))
    allowed = instrument.missing_items_allowed
    dropped = data.draw(
        st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=allowed + 1, unique=True)
    )
    remaining = {k: v for k, v in values.items() if k not in dropped}
    if allowed == 0:
        with pytest.raises(ScoringInputError):
            instrument.score(remaining)
    elif len(dropped) <= allowed:
        as_zero = instrument.score({**remaining, **dict.fromkeys(dropped, 0)})
        assert instrument.score(remaining).total == as_zero.total
    else:
        assert instrument.score(remaining).total is None


def single_totals(instrument: Instrument, rows: list[dict[str, Any]]) -> list[float]:
    totals = [instrument.score(r).total for r in rows]
    return [np.nan if t is None else t for t in totals]


def single_columns(instrument: Instrument, row: dict[str, Any]) -> dict[str, Any]:
    """What bulk scoring must give for ``row``, by output column: the total, the band, each
    subscore (PPPASI names its columns ``<region>_subscore``) and each detail."""
    result = instrument.score(row)
    out: dict[str, Any] = {"total": np.nan if result.total is None else result.total}
    if result.band is not None or instrument.name in ("pga", "pga_composite", "dlqi", "pppasi"):
        out["band"] = result.band
    suffix = "_subscore" if instrument.name == "pppasi" else ""
    out.update({f"{k}{suffix}": v for k, v in result.subscores.items()})
    out.update(result.details)
    if instrument.name == "pppasi":
        out["inconsistent"] = bool(result.warnings)
    return out


def _same(got: Any, expected: Any) -> bool:
    missing = (None, np.nan)
    if expected is None or (isinstance(expected, float) and np.isnan(expected)):
        return got is None or got in missing or (isinstance(got, float) and np.isnan(got))
    return bool(got == expected)


def assert_bulk_equals_single(instrument: Instrument, rows: list[dict[str, Any]]) -> None:
    columns = sorted(rows[0])
    expected = [single_columns(instrument, r) for r in rows]
    frames = (pd.DataFrame(rows, columns=columns), pl.DataFrame(rows))
    for scored in (instrument.score_frame(frame) for frame in frames):
        # each column is one single scoring gives; the total, band and details all are there
        # (the composite PGA's subscores are its three inputs, already in the frame)
        must = {"total", "band", *instrument.score(rows[0]).details} & set(expected[0])
        assert must <= set(scored.columns) <= set(expected[0])
        for column in scored.columns:
            got = scored[column].to_list()
            # no total: single scoring gives no subscores, bulk gives them as missing
            want = [e.get(column, np.nan) for e in expected]
            assert all(_same(g, w) for g, w in zip(got, want, strict=True)), (column, got, want)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.name)
@SETTINGS
@given(data=st.data())
def test_bulk_equals_single_in_pandas_and_polars(
    instrument: Instrument, data: st.DataObject
) -> None:
    """Every output column, not only the total: mutation testing found the composite PGA's
    band and mean, and the DLQI's domain subscores, unchecked in bulk (docs/mutation.md)."""
    rows = data.draw(st.lists(assessments(instrument), min_size=1, max_size=25))
    # Each DataFrame needs the same columns in every row: keep the first row's alternatives.
    columns = sorted(rows[0])
    rows = [r for r in rows if sorted(r) == columns]
    assert_bulk_equals_single(instrument, rows)


def test_dlqi_bulk_with_missing_items_equals_single() -> None:
    """One missing item scores 0 (with a warning); two leave no total and no band."""
    from pustula.scoring import get_instrument

    full = {f"dlqi_q{i}": (i % 4) for i in range(1, 11)}
    rows = [full, {**full, "dlqi_q3": None}, {**full, "dlqi_q3": None, "dlqi_q9": None}]
    dlqi = get_instrument("dlqi")
    assert_bulk_equals_single(dlqi, rows)
    assert [dlqi.score(r).band for r in rows][2] is None
