"""SDTM and ADaM checked by rules written from the SDTMIG 3.4 and ADaMIG 1.3 text, not
from the writer's specification (``cdisc check`` reads the writer's own spec, so it cannot
find what the writer got wrong). Each rule quotes or cites its source and reads only the
datasets, never the store.

The data: the demo (S03 still on study drug) and one more subject, withdrawn after an
interruption, with a lab on a visit day and one between visits.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pustula.analysis import build_analysis
from pustula.demo import create_demo_study
from pustula.interop.adam import build_adam
from pustula.interop.sdtm import build_sdtm
from pustula.store import add_adverse_event, add_lab, get_study, get_subject
from pustula.store.transfer.extract import read_exchange, read_study
from tests.interop.helpers import new_store


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    store = new_store(tmp_path_factory.mktemp("sdtmig") / "demo.sqlite3")
    create_demo_study(store)
    with store.transaction(user="tester", reason="more data") as tx:
        study = get_study(tx.session)
        s03 = get_subject(tx.session, study, "S03")  # still on drug
        add_adverse_event(tx, s03, {
            "term": "Pneumonia", "start_date": date(2024, 7, 20), "grade": 3, "serious": True,
            "serious_criteria": ["hospitalisation"], "relatedness": "possible",
            "action_taken": "interrupted", "outcome": "recovering"})  # fmt: skip
        add_lab(
            tx,
            study,
            s03,
            {
                "test": "alt",
                "value": 30.0,
                "unit": "U/L",
                "upper_limit": 40.0,
                "sample_date": date(2024, 5, 15),
            },
        )
    data = read_study(store)
    sdtm = build_sdtm(data, read_exchange(store))
    adam = build_adam(build_analysis(data), sdtm)
    return {**sdtm.datasets, **adam.datasets}


def _day(text: object) -> date | None:
    return date.fromisoformat(str(text)[:10]) if isinstance(text, str) and text else None


def test_rfxstdtc_and_rfxendtc_are_the_first_and_last_exposure(datasets) -> None:
    """SDTMIG 3.4 DM: RFXSTDTC "Date/time of first study treatment exposure", RFXENDTC
    "Date/time of last study treatment exposure", from EX. An exposure still open (no
    EXENDTC) has no last exposure yet, so RFXENDTC stays empty (docs/decisions/0001)."""
    dm, ex = datasets["DM"].set_index("USUBJID"), datasets["EX"]
    for usubjid, rows in ex.groupby("USUBJID"):
        assert dm.loc[usubjid, "RFXSTDTC"] == min(rows["EXSTDTC"]), usubjid
        ends = list(rows["EXENDTC"])
        expected = "" if "" in ends else max(ends)
        assert dm.loc[usubjid, "RFXENDTC"] == expected, usubjid
    assert dm.loc["TOFA-PPP-S03", "RFXENDTC"] == ""  # still on drug


def _epoch(day: date, first: date | None, last: date | None) -> str:
    if first is None or day < first:
        return "SCREENING"
    return "FOLLOW-UP" if last is not None and day > last else "TREATMENT"


@pytest.mark.parametrize(("domain", "dtc"), [("SV", "SVSTDTC"), ("AE", "AESTDTC"),
                                            ("LB", "LBDTC"), ("EX", "EXSTDTC")])  # fmt: skip
def test_epoch_is_the_epoch_the_record_falls_in_by_ex(datasets, domain: str, dtc: str) -> None:
    """SDTMIG 3.4 §4.1.3.1: EPOCH is the epoch during which the record's date falls. Here
    from EX alone: before the first EXSTDTC screening, up to the last EXENDTC (or while an
    EX record is open) treatment, after it follow-up. The day of first dose counts as
    treatment except for the baseline visit and pre-dose samples, which may share it."""
    ex = datasets["EX"]
    first = ex.groupby("USUBJID")["EXSTDTC"].min().map(_day)
    last = ex.groupby("USUBJID")["EXENDTC"].agg(lambda e: None if "" in set(e) else max(e))
    frame = datasets[domain]
    wrong = []
    for row in frame.itertuples():
        day = _day(getattr(row, dtc))
        if day is None or not row.EPOCH:
            continue
        expected = _epoch(day, first.get(row.USUBJID), _day(last.get(row.USUBJID)))
        if expected != row.EPOCH and not (
            day == first.get(row.USUBJID) and row.EPOCH == "SCREENING"
        ):
            wrong.append((row.USUBJID, getattr(row, dtc), row.EPOCH, expected))
    assert wrong == []
    if domain == "AE":
        pneumonia = frame[frame["AETERM"] == "Pneumonia"]
        assert list(pneumonia["EPOCH"]) == ["TREATMENT"]  # S03 still on drug


@pytest.mark.parametrize(("domain", "dtc", "dy"), [("SV", "SVSTDTC", "SVSTDY"),
                         ("AE", "AESTDTC", "AESTDY"), ("LB", "LBDTC", "LBDY")])  # fmt: skip
def test_study_days_count_from_rfstdtc_without_a_day_zero(datasets, domain, dtc, dy) -> None:
    """SDTMIG 3.4 §4.4.4: --DY = date − RFSTDTC + 1 on or after RFSTDTC, date − RFSTDTC
    before it."""
    ref = datasets["DM"].set_index("USUBJID")["RFSTDTC"].map(_day)
    for row in datasets[domain].itertuples():
        day, start = _day(getattr(row, dtc)), ref[row.USUBJID]
        if day is None or start is None:
            continue
        delta = (day - start).days
        assert getattr(row, dy) == (delta + 1 if delta >= 0 else delta)


def test_every_visitnum_of_a_findings_record_is_a_visit_in_sv(datasets) -> None:
    """SDTMIG 3.4 SV: "one record per actual visit"; a findings record with a VISITNUM
    names a visit the subject had."""
    sv = set(zip(datasets["SV"]["USUBJID"], datasets["SV"]["VISITNUM"], strict=True))
    for domain in ("LB", "QS"):
        frame = datasets[domain].dropna(subset=["VISITNUM"])
        missing = {(u, v) for u, v in zip(frame["USUBJID"], frame["VISITNUM"], strict=True)
                   if (u, v) not in sv}  # fmt: skip
        assert missing == set(), domain
    lb = datasets["LB"]
    between = lb[(lb["USUBJID"] == "TOFA-PPP-S03") & (lb["LBDTC"] == "2024-05-15")]
    assert between["VISITNUM"].isna().all()  # between visits: unscheduled


def test_keys_are_unique_and_every_subject_is_in_dm(datasets) -> None:
    """SDTMIG 3.4 §4.1.2: USUBJID identifies a subject across domains (every one in DM);
    --SEQ is unique within a subject in a domain."""
    subjects = set(datasets["DM"]["USUBJID"])
    for name in ("DS", "SV", "EX", "CM", "MH", "AE", "LB", "QS"):
        frame = datasets[name]
        assert set(frame["USUBJID"]) <= subjects, name
        seq = f"{name}SEQ"
        if seq in frame:
            assert not frame.duplicated(["USUBJID", seq]).any(), name


def test_adsl_traces_to_dm(datasets) -> None:
    """ADaMIG 1.3 §3.2: ADSL's RACE, ARM, ACTARM equal DM's; TRTSDT and TRTEDT are the
    dates of RFXSTDTC and RFXENDTC (empty while on drug)."""
    adsl = datasets["ADSL"].set_index("USUBJID")
    dm = datasets["DM"].set_index("USUBJID").loc[adsl.index]
    for column in ("RACE", "ARM", "ACTARM"):
        assert list(adsl[column]) == list(dm[column]), column
    for adam, sdtm in (("TRTSDT", "RFXSTDTC"), ("TRTEDT", "RFXENDTC")):
        ours = [None if pd.isna(v) else pd.Timestamp(v).date() for v in adsl[adam]]
        assert ours == [_day(v) for v in dm[sdtm]], adam
