"""The conformance check: a clean package passes; each kind of defect is found and named by
dataset, row and variable; and XPT v5 limits are refused when writing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pustula.demo import create_demo_study
from pustula.errors import DataValidationError
from pustula.interop.cdisc import write_sdtm
from pustula.interop.cdisc_check import check_folder
from pustula.interop.sdtm import build_sdtm
from pustula.interop.sdtm_spec import DATASETS
from pustula.interop.xpt import ascii_text, read_xpt, write_xpt
from pustula.store.transfer.extract import read_exchange, read_study
from tests.interop.helpers import new_store


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = new_store(tmp_path_factory.mktemp("check") / "demo.sqlite3")
    create_demo_study(store)
    data = read_study(store)
    folder = tmp_path_factory.mktemp("clean")
    write_sdtm(build_sdtm(data, read_exchange(store)), folder, title=data.title)
    return folder


def _rewrite(folder: Path, name: str, change) -> None:
    frame, _, _ = read_xpt(folder / f"{name.lower()}.xpt")
    spec = DATASETS[name]
    frame = change(frame)
    labels = {v.name: v.label for v in spec.variables}
    write_xpt(frame, folder / f"{name.lower()}.xpt", name=name, label=spec.label, labels=labels)


def _set(column: str, row: int, value) -> object:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return change


@pytest.mark.parametrize(
    ("dataset", "change", "expected"),
    [
        ("DM", _set("SEX", 1, "FEMALE"), "DM row 2, SEX: `FEMALE` is not in codelist SEX"),
        ("AE", _set("AEOUT", 0, "RESOLVED"), "AE row 1, AEOUT: `RESOLVED` is not in codelist OUT"),
        ("AE", _set("AESER", 0, "NO"), "AE row 1, AESER: `NO` is not in codelist NY"),
        ("AE", _set("AEREL", 0, "MAYBE"), "AE row 1, AEREL: `MAYBE` is not in codelist AEREL"),
        (
            "LB",
            _set("LBORRESU", 0, "cells/L"),
            "LB row 1, LBORRESU: `cells/L` is not in codelist UNIT",
        ),
        (
            "QS",
            _set("EPOCH", 0, "BASELINE"),
            "QS row 1, EPOCH: `BASELINE` is not in codelist EPOCH",
        ),
        ("AE", _set("AESTDTC", 0, "24/03/2024"), "AE row 1, AESTDTC: not an ISO 8601 date"),
        # demo S01's AE starts 2024-03-24, 20 days after the first dose: day 21
        ("AE", _set("AESTDY", 0, 20.0), "AE row 1, AESTDY: is 20; AESTDTC and RFSTDTC give 21"),
        ("AE", _set("USUBJID", 0, "TOFA-PPP-S99"), "AE row 1, USUBJID: subject not in DM"),
        ("AE", _set("AETERM", 0, ""), "AE row 1, AETERM: required value is null"),
        ("QS", _set("QSSEQ", 1, 1.0), "QS row 2, QSSEQ: QSSEQ repeats within the subject"),
        ("DS", _set("STUDYID", 0, "OTHER"), "*, STUDYID: differs between records"),
        ("DM", _set("COUNTRY", 0, "China"), "DM row 1, COUNTRY: not an ISO 3166-1 alpha-3"),
        ("MH", lambda f: f.drop(columns=["MHTERM"]), "MH, MHTERM: required variable is missing"),
        ("LB", _set("LBSTRESN", 0, 13.9), "LB row 1, LBSTRESN: is not the number in LBSTRESC"),
        ("TI", lambda f: f.iloc[0:0], "TI, -: has no records; leave the file out"),
        # a prior therapy (no dates collected) ends before the study, so it starts before it
        (
            "CM",
            _set("CMSTRF", 0, ""),
            "CM row 1, CMSTDTC/CMSTRF: an end (CMENDTC/CMENRF) without a start date or start "
            "timing",
        ),
    ],
)
def test_each_defect_is_found_and_named(
    clean: Path, tmp_path: Path, dataset, change, expected: str
) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(clean, folder)
    if dataset == "MH":  # a missing variable cannot be written with the full label set
        frame, labels, label = read_xpt(folder / "mh.xpt")
        write_xpt(change(frame), folder / "mh.xpt", name="MH", label=label, labels=labels)
    else:
        _rewrite(folder, dataset, change)
    findings = [str(f) for f in check_folder(folder)]
    assert any(f.startswith(expected) for f in findings), findings


def test_a_clean_package_has_no_findings(clean: Path) -> None:
    assert check_folder(clean) == []


def test_every_epoch_of_the_data_is_an_epoch_of_the_trial_arms(clean: Path, tmp_path: Path) -> None:
    # demo S05 stopped the study drug before week 12: its last visit is in FOLLOW-UP
    sv, _, _ = read_xpt(clean / "sv.xpt")
    follow_up = [i + 1 for i in range(len(sv)) if sv["EPOCH"].iloc[i] == "FOLLOW-UP"]
    assert follow_up
    folder = tmp_path / "broken"
    shutil.copytree(clean, folder)
    _rewrite(folder, "TA", lambda f: f[f["EPOCH"] != "FOLLOW-UP"].reset_index(drop=True))
    findings = [str(f) for f in check_folder(folder)]
    for row in follow_up:
        assert f"SV row {row}, EPOCH: `FOLLOW-UP` is not an epoch of TA" in findings


def test_a_broken_define_is_a_finding(clean: Path, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(clean, folder)
    define = folder / "define.xml"
    define.write_text(define.read_text().replace("def:Structure=", "def:Shape="))
    findings = [str(f) for f in check_folder(folder)]
    assert any("not valid Define-XML 2.1" in f and "Structure" in f for f in findings)


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"no \.xpt files"):
        check_folder(tmp_path)


def test_xpt_v5_limits_are_refused_with_dataset_variable_and_row(tmp_path: Path) -> None:
    path = tmp_path / "x.xpt"
    frame = pd.DataFrame({"AETERM": ["ok", "x" * 201]})
    with pytest.raises(DataValidationError, match=r"AE\.AETERM, row 2: over 200 characters"):
        write_xpt(frame, path, name="AE", label="Adverse Events", labels={})
    with pytest.raises(DataValidationError, match="label is over 40"):
        write_xpt(frame.head(1), path, name="AE", label="AE", labels={"AETERM": "x" * 41})
    with pytest.raises(DataValidationError, match="variable name must be 1-8"):
        write_xpt(pd.DataFrame({"AETERMLONG": ["a"]}), path, name="AE", label="AE", labels={})
    assert not path.exists()


def test_text_is_transliterated_to_ascii() -> None:
    assert ascii_text("Lymphocytes < 500/mm³, ALT ≥ 3 × ULN, 5 µmol/L – ok") == (
        "Lymphocytes < 500/mm3, ALT >= 3 x ULN, 5 umol/L - ok"
    )
