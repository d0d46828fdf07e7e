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


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.name)
@SETTINGS
@given(data=st.data())
def test_bulk_equals_single_in_pandas_and_polars(
    instrument: Instrument, data: st.DataObject
) -> None:
    rows = data.draw(st.lists(assessments(instrument), min_size=1, max_size=25))
    # Each DataFrame needs the same columns in every row: keep the first row's alternatives.
    columns = sorted(rows[0])
    rows = [r for r in rows if sorted(r) == columns]
    expected = single_totals(instrument, rows)
    frame = pd.DataFrame(rows, columns=columns)
    bands = [instrument.score(r).band for r in rows]
    for scored in (instrument.score_frame(frame), instrument.score_frame(pl.DataFrame(rows))):
        got = scored["total"].to_numpy()
        np.testing.assert_array_equal(got, np.asarray(expected, dtype=float))
        if "band" in scored.columns:
            assert [
                None if b is None or b != b else str(b) for b in scored["band"].to_list()
            ] == bands
