"""The shared bulk pipeline: column checks, row errors, collect mode, frame libraries."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from pustula.errors import BulkScoringError, PustulaError, RowError, ScoringInputError
from pustula.scoring import DLQI, PGA, PPPASI, ScoreResult, get_instrument

PGA_ROWS = pd.DataFrame({"pga": [0, 3, 4]})


def test_pandas_in_pandas_out_and_polars_in_polars_out() -> None:
    assert isinstance(PGA.score_frame(PGA_ROWS), pd.DataFrame)
    assert isinstance(PGA.score_frame(pl.from_pandas(PGA_ROWS)), pl.DataFrame)


def test_one_bad_row_fails_the_batch_naming_row_column_and_reason() -> None:
    frame = pd.DataFrame({"pga": [0, 3, 7, 2, "severe"]})
    with pytest.raises(BulkScoringError) as caught:
        PGA.score_frame(frame)
    assert caught.value.errors == (
        RowError(3, "pga", 7, "must be a whole number from 0 to 4; got 7"),
        RowError(5, "pga", "severe", "must be a whole number from 0 to 4; got 'severe'"),
    )
    assert str(caught.value).startswith(
        "2 of 5 rows are invalid, so none was scored: row 3, column 'pga': "
        "must be a whole number from 0 to 4; got 7; row 5"
    )
    assert caught.value.code == "bulk_scoring_input"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([1.5], "must be a whole number from 0 to 4; got 1.5"),
        ([np.nan], "is missing; it must be a whole number from 0 to 4"),
        ([True], "must be a whole number from 0 to 4; got True"),
        ([-1], "must be a whole number from 0 to 4; got -1"),
        ([np.inf], "must be a whole number from 0 to 4; got inf"),
    ],
)
def test_each_kind_of_bad_cell_is_reported(values: list[object], reason: str) -> None:
    with pytest.raises(BulkScoringError) as caught:
        PGA.score_arrays({"pga": np.asarray(values)})
    assert [e.reason for e in caught.value.errors] == [reason]


def test_collect_mode_scores_the_valid_rows_and_reports_the_rest() -> None:
    frame = pd.DataFrame({"pga": [0, 9, 4]})
    scored = PGA.score_frame(frame, errors="collect")
    assert scored["total"].tolist()[0] == 0.0
    assert np.isnan(scored["total"].iloc[1])
    assert scored["total"].iloc[2] == 4.0
    assert scored["error"].tolist() == [
        None,
        "pga: must be a whole number from 0 to 4; got 9",
        None,
    ]
    polars = PGA.score_frame(pl.from_pandas(frame), errors="collect")
    assert polars["band"].to_list() == ["clear", None, "severe"]


def test_missing_columns_and_ambiguous_groups_are_named() -> None:
    with pytest.raises(ScoringInputError, match="missing column\\(s\\) pga"):
        PGA.score_frame(pd.DataFrame({"iga": [1]}))
    cols = {c.name: [0] for c in PPPASI.fields}  # both area_pct and area_score present
    with pytest.raises(
        ScoringInputError,
        match="right_palm area needs exactly one of right_palm_area_pct or right_palm_area_score",
    ):
        PPPASI.score_frame(pd.DataFrame(cols))


def test_unknown_error_mode_is_refused() -> None:
    with pytest.raises(
        ScoringInputError, match="errors must be 'raise' or 'collect'; got 'ignore'"
    ):
        PGA.score_arrays({"pga": np.array([1])}, errors="ignore")  # type: ignore[arg-type]


def test_pandas_nullable_integers_and_empty_frames() -> None:
    nullable = pd.DataFrame({f"dlqi_q{i}": pd.array([1, None], dtype="Int8") for i in range(1, 11)})
    scored = DLQI.score_frame(nullable)
    assert scored["total"].iloc[0] == 10.0
    assert np.isnan(scored["total"].iloc[1])  # ten missing items: no total
    assert len(PGA.score_frame(pd.DataFrame({"pga": pd.Series([], dtype="int64")}))) == 0


def test_input_frame_is_not_modified() -> None:
    frame = pd.DataFrame({"pga": [1.0, 2.0]})
    before = frame.copy()
    PGA.score_frame(frame)
    pd.testing.assert_frame_equal(frame, before)


# --- scoring many assessments at once ------------------------------------------------------


def _one_by_one(instrument: Any, rows: list[dict[str, object]]) -> list[object]:
    """The reference: each row scored on its own, or the error it raises."""
    out: list[object] = []
    for row in rows:
        try:
            out.append(instrument.score(row))
        except PustulaError as exc:
            out.append(exc)
    return out


def _same(got: list[object], expected: list[object]) -> None:
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        if isinstance(b, PustulaError):
            assert isinstance(a, type(b)), f"row {i}: {a!r} instead of {b!r}"
            assert a.message == b.message, f"row {i}"
        else:
            assert a == b, f"row {i}"


def _pppasi_rows(rng: np.random.Generator, n: int) -> list[dict[str, object]]:
    """Random PPPASI inputs: mostly valid, some inconsistent, some impossible, some in the
    area-score form, some with a field missing or a value of the wrong kind."""
    names = [f["name"] for f in PPPASI.metadata()["fields"]]
    odd: list[object] = [7, -1, "x", None, True, 2.5, "3", 100.5, float("nan")]
    rows = []
    for _ in range(n):
        row: dict[str, object] = {}
        for name in names:
            if name.endswith("area_score"):
                continue
            if name.endswith("area_pct"):
                row[name] = (
                    int(rng.integers(0, 101))
                    if rng.random() < 0.8
                    else float(np.round(rng.uniform(0, 100), 1))
                )
            else:
                row[name] = int(rng.integers(0, 5))
        roll = rng.random()
        key = names[int(rng.integers(0, len(names)))]
        if roll < 0.1 and not key.endswith("area_score"):
            row[key] = odd[int(rng.integers(0, len(odd)))]
        elif roll < 0.15:
            row.pop(next(iter(row)))
        elif roll < 0.2:
            row = {(k.replace("area_pct", "area_score")): (int(rng.integers(0, 7))
                    if k.endswith("area_pct") else v) for k, v in row.items()}  # fmt: skip
        elif roll < 0.3:
            region = names[0].rsplit("_", 1)[0]
            row[f"{region}_area_pct"] = 0  # signs without area: a warning
        rows.append(row)
    return rows


def test_pppasi_scored_many_at_once_equals_each_scored_on_its_own() -> None:
    rows = _pppasi_rows(np.random.default_rng(20261130), 3000)
    expected = _one_by_one(PPPASI, rows)
    assert any(isinstance(e, PustulaError) for e in expected)
    assert any(isinstance(e, ScoreResult) and e.warnings for e in expected)
    _same(PPPASI.score_many(rows), expected)


@pytest.mark.parametrize("name", ["dlqi", "pga", "pain_nrs", "itch_nrs"])
def test_other_instruments_scored_many_equal_each_scored_on_its_own(name: str) -> None:
    instrument = get_instrument(name)
    rng = np.random.default_rng(7)
    fields = [f["name"] for f in instrument.metadata()["fields"]]
    choices: list[object] = [0, 1, 2, 3, 4, 10, 11, -1, None, True, 1.0, 2.5, "x", "not_relevant"]
    rows = [
        {f: choices[int(rng.integers(0, len(choices)))] for f in fields} for _ in range(400)
    ] + [{f: 1 for f in fields}] * 50
    _same(instrument.score_many(rows), _one_by_one(instrument, rows))
