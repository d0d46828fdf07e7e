"""The analysis-ready export: one row per subject and visit, its codebook, and every format
re-read with the library that reads it (pandas, pyarrow, openpyxl, pyreadstat)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from pustula.analysis import build_analysis
from pustula.demo import create_demo_study
from pustula.errors import DataValidationError
from pustula.interop import FORMATS, TidyExport, build_tidy, write_tidy
from pustula.interop.tidy import item_score
from pustula.store import Store
from pustula.store.transfer.extract import read_items, read_study


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> TidyExport:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('tidy') / 'demo.sqlite3'}")
    store.create_schema()
    create_demo_study(store)
    return build_tidy(build_analysis(read_study(store)), read_items(store))


def test_one_row_per_subject_and_visit_with_the_published_responders(
    export: TidyExport,
) -> None:
    data = export.data
    assert len(data) == 24 and not data.duplicated(["subject", "visit"]).any()
    at = data.set_index(["visit", "subject"])
    # the case series (Xu et al. 2023): 6/6 PPPASI50 and 3/6 PPPASI80 at week 4, 5/6 at week 12
    assert at.loc["W4", "pppasi50"].sum() == 6
    assert at.loc["W4", "pppasi80"].sum() == 3
    assert at.loc["W12", "pppasi80"].sum() == 5
    # the region scores add up to the total, and the change is from week 0
    regions = data[[f"pppasi_{r}" for r in ("right_palm", "left_palm", "right_sole",
                                            "left_sole")]].sum(axis=1)  # fmt: skip
    assert (regions.round(1) == data["pppasi"].round(1)).all()
    base = at.loc["W0", "pppasi"]
    assert (at.loc["W12", "pppasi_chg"].round(1) == (at.loc["W12", "pppasi"] - base).round(1)).all()


def test_the_codebook_describes_every_column(export: TidyExport) -> None:
    book = export.codebook
    assert list(book["variable"]) == list(export.data.columns)
    assert book["label"].str.len().gt(0).all() and book["source"].str.len().gt(0).all()
    severity = book.set_index("variable").loc["right_sole_pustules", "values"]
    assert (
        severity
        == "0 = 0 · None; 1 = 1 · Slight; 2 = 2 · Moderate; 3 = 3 · Severe; 4 = 4 · Very severe"
    )


def test_dlqi_answers_in_words_export_as_their_scores() -> None:
    assert item_score("dlqi", "dlqi_q3", "not_relevant") == 0.0
    assert item_score("dlqi", "dlqi_q7", "yes") == 3.0
    assert item_score("dlqi", "dlqi_q1", 2) == 2.0


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_the_same_values(
    export: TidyExport, tmp_path: Path, fmt: str
) -> None:
    written = write_tidy(export, tmp_path, fmt)
    assert {p.name for p in written} == {f"tidy.{fmt}", "codebook.csv", "SYNTHETIC-DATA.txt"}
    path = tmp_path / f"tidy.{fmt}"
    labels = dict(zip(export.codebook["variable"], export.codebook["label"], strict=True))
    if fmt == "csv":
        back = pd.read_csv(path)
    elif fmt == "parquet":
        back = pd.read_parquet(path)
    elif fmt == "xlsx":
        back = pd.read_excel(path, sheet_name="data")
    else:
        reader = {"xpt": pyreadstat.read_xport, "dta": pyreadstat.read_dta,
                  "sav": pyreadstat.read_sav}[fmt]  # fmt: skip
        back, meta = reader(str(path))
        assert dict(zip(meta.column_names, meta.column_labels, strict=True)) == labels
        if fmt != "xpt":  # XPT has no value labels
            assert meta.variable_value_labels["pga"][1.0] == "1 · Almost clear"
    assert list(back.columns) == list(export.data.columns)
    for column in ("pppasi", "pppasi_pchg", "pga", "age"):
        expected = pd.to_numeric(export.data[column]).to_numpy(dtype=float)
        got = pd.to_numeric(back[column]).to_numpy(dtype=float)
        assert pd.Series(got).round(6).equals(pd.Series(expected).round(6)), column
    assert list(back["subject"].astype(str)) == list(export.data["subject"])


def test_an_unknown_format_is_refused(export: TidyExport, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="choose one of csv, parquet"):
        write_tidy(export, tmp_path, "sas7bdat")
