"""SDTM from the demo study: the datasets SDTMIG 3.4 asks for, with their variables in order,
study days without a day 0, dosing split around interruptions, QS results equal to the
stored scores, and XPT v5 files that read back with the same names, labels and values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from pustula.demo import create_demo_study
from pustula.interop.cdisc import write_sdtm
from pustula.interop.cdisc_check import check_folder
from pustula.interop.sdtm import SdtmPackage, build_sdtm
from pustula.interop.sdtm_dates import epoch, study_day
from pustula.interop.sdtm_spec import DATASETS
from pustula.interop.xpt import ascii_text, read_xpt
from pustula.store.transfer.extract import StudyData, read_exchange, read_study
from tests.interop.helpers import new_store


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyData, SdtmPackage, Path]:
    store = new_store(tmp_path_factory.mktemp("sdtm") / "demo.sqlite3")
    create_demo_study(store)
    data = read_study(store)
    package = build_sdtm(data, read_exchange(store))
    folder = tmp_path_factory.mktemp("sdtm-out")
    write_sdtm(package, folder, title=data.title)
    return data, package, folder


def test_the_study_day_has_no_day_zero() -> None:
    first = date(2024, 3, 4)
    # hand count: the first dose is day 1, the day before it day -1
    assert study_day(date(2024, 3, 4), first) == 1
    assert study_day(date(2024, 3, 3), first) == -1
    assert study_day(date(2024, 3, 24), first) == 21  # 20 days after: day 21
    assert study_day(date(2024, 2, 26), first) == -7
    assert study_day(None, first) is None
    assert study_day(date(2024, 3, 4), None) is None


def test_epochs_follow_the_first_and_last_dose() -> None:
    first, last = date(2024, 3, 4), date(2024, 5, 27)
    assert epoch(date(2024, 3, 1), first, last) == "SCREENING"
    assert epoch(first, first, last, before_dose=True) == "SCREENING"
    assert epoch(first, first, last) == "TREATMENT"
    assert epoch(last, first, last) == "TREATMENT"
    assert epoch(date(2024, 6, 1), first, last) == "FOLLOW-UP"
    assert epoch(date(2024, 3, 1), None, None) == "SCREENING"


def test_every_dataset_has_the_specified_variables_in_order(study) -> None:
    _, package, _ = study
    assert list(package.datasets) == list(DATASETS)
    for name, frame in package.datasets.items():
        assert tuple(frame.columns) == DATASETS[name].names, name
        assert (frame["STUDYID"] == "TOFA-PPP").all()


def test_dm_has_one_record_per_subject_with_reference_dates(study) -> None:
    data, package, _ = study
    dm = package.datasets["DM"]
    assert list(dm["SUBJID"]) == list(data.subjects["subject"])
    s01 = dm.set_index("SUBJID").loc["S01"]
    assert (s01["RFSTDTC"], s01["SEX"], s01["AGE"], s01["COUNTRY"]) == (
        "2024-03-04",
        "F",
        42,
        "CHN",
    )
    assert s01["ACTARMCD"] == "TOFA" and s01["ARMNRS"] == ""


def test_participation_of_a_subject_on_study_ends_at_the_last_record(tmp_path: Path) -> None:
    from pustula.store import add_lab, get_study, get_subject

    store = new_store(tmp_path / "demo.sqlite3")
    create_demo_study(store)
    # demo S01 is on study; its last visit (week 12) is 2024-05-27: a lab drawn after it
    with store.transaction(user="tester", reason="safety lab") as tx:
        study = get_study(tx.session)
        add_lab(tx, study, get_subject(tx.session, study, "S01"),
                {"test": "alt", "value": 30.0, "unit": "U/L",
                 "sample_date": date(2024, 6, 10)})  # fmt: skip
    dm = build_sdtm(read_study(store), read_exchange(store)).datasets["DM"].set_index("SUBJID")
    assert dm.loc["S01", "RFPENDTC"] == "2024-06-10"
    assert dm.loc["S02", "RFPENDTC"] == "2024-06-10"  # its week 12 visit


def test_a_medication_has_the_epoch_it_started_in_and_a_prior_therapy_none(
    tmp_path: Path,
) -> None:
    from pustula.store import add_con_med, get_study, get_subject

    store = new_store(tmp_path / "demo.sqlite3")
    create_demo_study(store)
    # demo S01: first dose 2024-03-04, last 2024-05-27
    with store.transaction(user="tester", reason="medications") as tx:
        s01 = get_subject(tx.session, get_study(tx.session), "S01")
        for drug, start in (("cetirizine", date(2024, 3, 1)), ("emollient", date(2024, 4, 2)),
                            ("ibuprofen", date(2024, 6, 3)), ("paracetamol", None)):  # fmt: skip
            add_con_med(tx, s01, {"drug": drug, "indication": "itch", "start_date": start})
    cm = build_sdtm(read_study(store), read_exchange(store)).datasets["CM"]
    s01 = cm[cm["USUBJID"] == "TOFA-PPP-S01"].set_index("CMTRT")
    assert list(s01.loc[["CETIRIZINE", "EMOLLIENT", "IBUPROFEN", "PARACETAMOL"], "EPOCH"]) == [
        "SCREENING", "TREATMENT", "FOLLOW-UP", ""
    ]  # fmt: skip
    priors = s01[s01["CMCAT"] == "PRIOR PPP THERAPY"]
    assert len(priors) and set(priors["EPOCH"]) == {""}


def test_a_subject_still_on_drug_has_no_last_dose_and_stays_in_treatment(tmp_path: Path) -> None:
    """SDTMIG 3.4 DM: RFXENDTC is the end of the last exposure (the latest EXENDTC), so it
    stays empty while an exposure record is open; EPOCH TREATMENT runs from the first dose
    to the last, so a subject still on drug has no FOLLOW-UP. Before the fix the open
    record's start date stood in for the last dose: RFXENDTC 2024-04-08 and every later
    visit in FOLLOW-UP while EX said TREATMENT."""
    from pustula.analysis import AnalysisSettings, build_analysis
    from pustula.store import add_adverse_event, get_study, get_subject

    store = new_store(tmp_path / "demo.sqlite3")
    create_demo_study(store)
    # demo S03: first dose 2024-04-08, still on drug; a serious AE on day 60 interrupts it
    with store.transaction(user="tester") as tx:
        s03 = get_subject(tx.session, get_study(tx.session), "S03")
        add_adverse_event(tx, s03, {
            "term": "Pneumonia", "start_date": date(2024, 6, 7), "grade": 3, "serious": True,
            "serious_criteria": ["hospitalisation"], "relatedness": "possible",
            "action_taken": "interrupted", "outcome": "recovering"})  # fmt: skip
    data = read_study(store)
    package = build_sdtm(data, read_exchange(store))
    dm = package.datasets["DM"].set_index("SUBJID")
    assert (dm.loc["S03", "RFXSTDTC"], dm.loc["S03", "RFXENDTC"], dm.loc["S03", "RFENDTC"]) == (
        "2024-04-08", "", ""
    )  # fmt: skip
    assert dm.loc["S01", "RFXENDTC"] == "2024-05-27"  # S01's exposure ended: day 84
    sv = package.datasets["SV"]
    s03_sv = sv[sv["USUBJID"] == "TOFA-PPP-S03"].set_index("VISITNUM")["EPOCH"]
    assert list(s03_sv) == ["SCREENING", "TREATMENT", "TREATMENT", "TREATMENT"]
    ex = package.datasets["EX"]
    assert set(ex.loc[ex["USUBJID"] == "TOFA-PPP-S03", "EPOCH"]) == {"TREATMENT"}
    ae = package.datasets["AE"]
    pneumonia = ae[(ae["USUBJID"] == "TOFA-PPP-S03") & (ae["AETERM"] == "Pneumonia")]
    assert list(pneumonia["EPOCH"]) == ["TREATMENT"]
    adsl = build_analysis(data, AnalysisSettings.from_protocol(data.protocol)).adsl
    trtedt = adsl.set_index("SUBJID")["TRTEDT"]
    assert pd.isna(trtedt["S03"]) and pd.Timestamp(trtedt["S01"]) == pd.Timestamp("2024-05-27")


def test_dosing_is_split_around_an_interruption(study) -> None:
    _, package, _ = study
    ex = package.datasets["EX"]
    s06 = ex[ex["USUBJID"] == "TOFA-PPP-S06"]
    # the demo's S06: 2024-06-03 to 2024-08-26, interrupted 2024-07-02 to 2024-07-09
    assert list(zip(s06["EXSTDTC"], s06["EXENDTC"], strict=True)) == [
        ("2024-06-03", "2024-07-01"),
        ("2024-07-10", "2024-08-26"),
    ]
    assert list(s06["EXSEQ"]) == [1, 2]
    assert set(ex["EXDOSFRQ"]) == {"BID"} and set(ex["EXROUTE"]) == {"ORAL"}


def test_qs_totals_equal_the_stored_scores(study) -> None:
    data, package, _ = study
    qs = package.datasets["QS"]
    totals = qs[qs["QSTESTCD"] == "PPPASI"].set_index(["USUBJID", "VISIT"])["QSSTRESN"]
    stored = data.assessments[data.assessments["instrument"] == "pppasi"]
    labels = {v.code: v.label for v in data.protocol.visits}
    for row in stored.itertuples():
        assert totals[(f"TOFA-PPP-{row.subject}", labels[row.visit_code])] == row.total
    # sponsor-defined PPPASI codes are at most 8 characters and the derived ones are flagged
    assert qs["QSTESTCD"].str.len().max() <= 8
    assert set(qs.loc[qs["QSTESTCD"].isin(["PPPASI", "RPSCORE", "RPARSC"]), "QSDRVFL"]) == {"Y"}
    assert set(qs.loc[qs["QSTESTCD"] == "RPERY", "QSDRVFL"]) == {""}


def test_qs_says_who_rated_each_questionnaire(study) -> None:
    _, package, _ = study
    qs = package.datasets["QS"]
    # CDISC codelist EVAL: the investigator scores the skin, the patient reports the rest
    expected = {"PPPASI": "INVESTIGATOR", "PPP PGA": "INVESTIGATOR", "DLQI": "STUDY SUBJECT",
                "NRS": "STUDY SUBJECT"}  # fmt: skip
    by_category = qs.groupby("QSCAT")["QSEVAL"].agg(set).to_dict()
    assert {"PPPASI", "PPP PGA"} <= set(by_category)
    assert by_category == {c: {expected[c]} for c in by_category}
    from pustula.interop.sdtm_terms import QS_CATEGORY, QS_EVALUATOR

    assert {QS_CATEGORY[i]: e for i, e in QS_EVALUATOR.items()} == expected


def test_region_score_is_weight_times_signs_times_area(study) -> None:
    _, package, _ = study
    qs = package.datasets["QS"]
    one = qs[(qs["USUBJID"] == "TOFA-PPP-S01") & (qs["VISITNUM"] == 1)].set_index("QSTESTCD")
    value = one["QSSTRESN"]
    # demo S01 week 0, right palm: (3 + 3 + 2) signs, 40 % area -> area score 3; weight 0.2
    assert value["RPAREA"] == 40 and value["RPARSC"] == 3
    assert value["RPSCORE"] == pytest.approx(0.2 * (3 + 3 + 2) * 3)


def test_baseline_flags_mark_the_last_pre_dose_record(study) -> None:
    _, package, _ = study
    qs = package.datasets["QS"]
    flagged = qs[qs["QSLOBXFL"] == "Y"]
    assert set(flagged["VISIT"]) == {"Week 0"}
    assert not flagged.duplicated(["USUBJID", "QSTESTCD"]).any()
    lb = package.datasets["LB"]
    assert (lb.loc[lb["LBLOBXFL"] == "Y", "EPOCH"] == "SCREENING").all()


def test_the_seq_is_unique_within_each_subject(study) -> None:
    _, package, _ = study
    for name in ("DS", "EX", "CM", "MH", "AE", "LB", "QS"):
        frame = package.datasets[name]
        assert not frame.duplicated(["USUBJID", f"{name}SEQ"]).any(), name


def test_trial_design_comes_from_the_protocol(study) -> None:
    data, package, _ = study
    tv = package.datasets["TV"]
    assert list(tv["VISITDY"]) == [v.day + 1 for v in data.protocol.visits]
    ti = package.datasets["TI"]
    assert list(ti["IETESTCD"]) == ["I1", "I2", "I3", "I4", "E1", "E2", "E3", "E4"]
    ts = package.datasets["TS"].set_index("TSPARMCD")
    assert ts.loc["AGEMIN", "TSVAL"] == "P18Y"
    assert ts.loc["TRT", "TSVAL"] == "TOFACITINIB"
    # a single-arm case series: open, uncontrolled, not randomized
    assert ts.loc["TBLIND", "TSVAL"] == "OPEN LABEL"
    assert ts.loc["TCNTRL", "TSVAL"] == "NONE"
    assert ts.loc["RANDOM", "TSVAL"] == "N"
    assert "STRATFCT" not in ts.index


def test_xpt_files_read_back_with_names_labels_and_values(study) -> None:
    _, package, folder = study
    for name, frame in package.datasets.items():
        back, labels, label = read_xpt(folder / f"{name.lower()}.xpt")
        spec = DATASETS[name]
        assert label == spec.label
        assert list(back.columns) == list(spec.names)
        assert labels == {v.name: v.label for v in spec.variables}
        for var in spec.variables:
            expected = frame[var.name]
            if var.numeric:
                pd.testing.assert_series_equal(back[var.name], expected, check_names=False)
            else:  # XPT v5 stores ASCII: "mm³" comes back as "mm3"
                assert list(back[var.name].fillna("")) == [ascii_text(v) for v in expected]


def test_the_demo_package_is_clean_and_labelled_synthetic(study) -> None:
    _, _, folder = study
    assert check_folder(folder) == []
    assert "SYNTHETIC" in (folder / "SYNTHETIC-DATA.txt").read_text()


def test_a_site_scoped_package_holds_only_that_sites_subjects(tmp_path: Path) -> None:
    from pustula.interop.cdisc import cdisc_package
    from pustula.store.transfer.extract import restrict

    store = new_store(tmp_path / "demo.sqlite3")
    create_demo_study(store)
    data = restrict(read_study(store), {"S05", "S06"})
    cdisc_package(store, data, "sdtm", tmp_path / "sdtm")
    for name in ("dm", "qs", "lb", "ae"):
        frame, _, _ = read_xpt(tmp_path / "sdtm" / f"{name}.xpt")
        assert set(frame["USUBJID"]) <= {"TOFA-PPP-S05", "TOFA-PPP-S06"}, name
    assert check_folder(tmp_path / "sdtm") == []


def test_a_domain_without_records_is_left_out(tmp_path: Path) -> None:
    from pustula.interop.cdisc import cdisc_package
    from pustula.store.transfer.extract import restrict

    store = new_store(tmp_path / "demo.sqlite3")
    create_demo_study(store)
    # demo S04 had no adverse event: no AE and no SUPPAE, in the folder or in define.xml
    cdisc_package(store, restrict(read_study(store), {"S04"}), "sdtm", tmp_path / "sdtm")
    written = {p.stem.upper() for p in (tmp_path / "sdtm").glob("*.xpt")}
    assert {"DM", "QS", "LB"} <= written
    assert not {"AE", "SUPPAE"} & written
    assert 'Name="AE"' not in (tmp_path / "sdtm" / "define.xml").read_text()
    assert check_folder(tmp_path / "sdtm") == []


def test_a_study_with_no_visits_yet_writes_clean_folders(tmp_path: Path) -> None:
    from pustula.interop.cdisc import cdisc_package
    from tests.store.helpers import enrol, make_study

    store = new_store(tmp_path / "new.sqlite3")
    enrol(store, make_study(store), "S01")  # enrolled and dosed; nothing assessed yet
    data = read_study(store)
    cdisc_package(store, data, "sdtm", tmp_path / "sdtm")
    cdisc_package(store, data, "adam", tmp_path / "adam")
    sdtm = {p.stem.upper() for p in (tmp_path / "sdtm").glob("*.xpt")}
    assert "DM" in sdtm and not {"SV", "QS", "AE"} & sdtm
    assert [p.name for p in (tmp_path / "adam").glob("*.xpt")] == ["adsl.xpt"]
    assert check_folder(tmp_path / "sdtm") == [] and check_folder(tmp_path / "adam") == []


def test_a_numeric_result_text_holds_exactly_its_number(study) -> None:
    from pustula.interop.sdtm import _number

    _, package, _ = study
    lb = package.datasets["LB"]
    assert [float(t) for t in lb["LBSTRESC"]] == list(lb["LBSTRESN"])
    # the noise of a unit conversion goes; no exponent notation; integers without ".0"
    assert _number(0.1 * 3) == "0.3"
    assert _number(3413.3216410499926) == "3413.32164105"  # 12 significant digits
    assert _number(5e-05) == "0.00005"
    assert _number(1234567.0) == "1234567"
    assert _number(None) == ""


def test_every_instrument_has_qs_records() -> None:
    from types import SimpleNamespace

    from pustula.interop.sdtm import _qs_records
    from pustula.scoring import list_instruments

    items = {"pga_composite": {"pga_erythema": 2, "pga_pustules": 3, "pga_scaling": 1},
             "dlqi": {f"dlqi_q{i}": 1 for i in range(1, 11)}, "pain_nrs": {"pain_nrs": 4},
             "itch_nrs": {"itch_nrs": 6}, "pga": {"pga": 2}}  # fmt: skip
    for instrument in (i.name for i in list_instruments() if i.name != "pppasi"):
        a = SimpleNamespace(instrument=instrument, items=items[instrument], subscores={},
                            total=2.0, not_done_reason=None)  # fmt: skip
        codes = [r[0] for r in _qs_records(a)]
        assert codes and all(len(c) <= 8 for c in codes), instrument
    composite = SimpleNamespace(instrument="pga_composite", items=items["pga_composite"],
                                subscores={}, total=2.0, not_done_reason=None)  # fmt: skip
    assert [r[0] for r in _qs_records(composite)] == ["PGAERY", "PGAPUS", "PGASCAL", "PGACOMP"]
    dlqi = SimpleNamespace(instrument="dlqi", items=items["dlqi"], subscores={}, total=10.0,
                           not_done_reason=None)  # fmt: skip
    assert [r[0] for r in _qs_records(dlqi)][:2] == ["DLQI101", "DLQI102"]
