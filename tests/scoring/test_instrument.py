"""The shared bulk pipeline: column checks, row errors, collect mode, frame libraries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from pustula.errors import BulkScoringError, RowError, ScoringInputError
from pustula.scoring import DLQI, PGA, PPPASI

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
