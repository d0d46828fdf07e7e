"""SDTM (SDTMIG 3.4) from a study: DM, DS, SV, EX, CM, MH, AE, LB, QS, their SUPP-- datasets
and the trial design datasets (:mod:`pustula.interop.sdtm_design`).

Every dataset has exactly the variables of :data:`pustula.interop.sdtm_spec.DATASETS`, in
their order; character values are never null ("" instead), as SAS XPT stores them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from pustula.checks.labs import convert_unit
from pustula.checks.vocabulary import CODELISTS as VOCAB
from pustula.interop.sdtm_dates import epoch, iso, study_day
from pustula.interop.sdtm_design import trial_design
from pustula.interop.sdtm_spec import dataset_frame
from pustula.interop.sdtm_terms import (
    ACTION,
    FREQUENCY,
    LAB_TESTS,
    OUTCOME,
    QS_CATEGORY,
    QS_EVALUATOR,
    RELATEDNESS,
    SERIOUS_FLAGS,
    STANDARD_UNIT,
    disposition_term,
    qs_tests,
)
from pustula.interop.tidy import item_score
from pustula.protocol import Protocol
from pustula.protocol.status import SubjectStatus
from pustula.scoring.pppasi import area_score_from_percent
from pustula.store.transfer.extract import ExchangeData, StudyData

__all__ = ["SdtmPackage", "build_sdtm", "visit_numbers"]

Row = dict[str, Any]


@dataclass(frozen=True)
class SdtmPackage:
    """SDTM datasets by name, in the order a reviewer reads them."""

    study: str
    datasets: dict[str, pd.DataFrame]
    synthetic: bool = False
    randomized: bool = False


@dataclass(frozen=True)
class _Subject:
    usubjid: str
    first: Any
    last: Any


def visit_numbers(protocol: Protocol) -> dict[str, tuple[float, str]]:
    """VISITNUM and VISIT of each protocol visit: its order in the schedule, from 1."""
    return {v.code: (float(i), v.label) for i, v in enumerate(protocol.visits, start=1)}


def _sequence(rows: list[Row], name: str) -> list[Row]:
    """--SEQ: 1, 2, … within each subject, in the order the rows were made."""
    counters: dict[str, int] = {}
    for row in rows:
        counters[row["USUBJID"]] = counters.get(row["USUBJID"], 0) + 1
        row[name] = counters[row["USUBJID"]]
    return rows


def _records(frame: pd.DataFrame) -> Iterator[Any]:
    """A frame's rows as named tuples (typed loosely: their fields are the columns)."""
    return iter(frame.itertuples())


def _number(value: Any) -> str:
    """A number as result text: 12 significant digits at most (which drops the noise of a
    unit conversion, 0.30000000000000004), never in exponent notation."""
    if value is None or pd.isna(value):
        return ""
    text = format(float(value), ".12g")
    return format(Decimal(text), "f") if "e" in text else text


def build_sdtm(data: StudyData, extra: ExchangeData) -> SdtmPackage:
    code = data.code
    subjects = {
        s.subject: _Subject(f"{code}-{s.subject}", s.first_dose, s.last_dose)
        for s in _records(data.subjects)
    }
    ids = {"STUDYID": code}
    supp_dm: list[Row] = []
    supp_ae: list[Row] = []
    supp_cm: list[Row] = []
    datasets = {
        "DM": dataset_frame("DM", _dm(data, extra, subjects, supp_dm)),
        "DS": dataset_frame("DS", _sequence(_ds(data, subjects), "DSSEQ")),
        "SV": dataset_frame("SV", _sv(data.protocol, extra, subjects)),
        "EX": dataset_frame("EX", _sequence(_ex(data, subjects), "EXSEQ")),
        "CM": dataset_frame("CM", _cm(data, extra, subjects, supp_cm)),
        "MH": dataset_frame("MH", _sequence(_mh(data, subjects), "MHSEQ")),
        "AE": dataset_frame("AE", _ae(extra, subjects, supp_ae)),
        "LB": dataset_frame("LB", _lb(data.protocol, extra, subjects)),
        "QS": dataset_frame("QS", _qs(data.protocol, extra, subjects)),
        "SUPPDM": dataset_frame("SUPPDM", supp_dm),
        "SUPPAE": dataset_frame("SUPPAE", supp_ae),
        "SUPPCM": dataset_frame("SUPPCM", supp_cm),
        **trial_design(data.protocol, data.subjects),
    }
    for name, frame in datasets.items():
        frame["STUDYID"] = ids["STUDYID"]
        if "DOMAIN" in frame:
            frame["DOMAIN"] = name
    return SdtmPackage(code, datasets, data.synthetic, data.protocol.randomized)


def _supp(
    rows: list[Row],
    rdomain: str,
    usubjid: str,
    idvar: str,
    idval: Any,
    qnam: str,
    qlabel: str,
    qval: Any,
    qorig: str = "CRF",
) -> None:
    if qval is None or (not isinstance(qval, str) and pd.isna(qval)) or qval == "":
        return
    rows.append(
        {
            "RDOMAIN": rdomain,
            "USUBJID": usubjid,
            "IDVAR": idvar,
            "IDVARVAL": "" if idval is None else str(idval),
            "QNAM": qnam,
            "QLABEL": qlabel,
            "QVAL": str(qval),
            "QORIG": qorig,
            "QEVAL": "",
        }
    )


def _dm(
    data: StudyData, extra: ExchangeData, subjects: dict[str, _Subject], supp: list[Row]
) -> list[Row]:
    arms = {a.code: a.label for a in data.protocol.arms}
    allocated = _allocated_arms(data)
    last_seen = _last_record_date(data, extra)
    rows = []
    for s in _records(data.subjects):
        who = subjects[s.subject]
        arm = allocated.get(s.subject, s.arm)
        failed = s.status == SubjectStatus.SCREEN_FAILURE
        pending = s.status == SubjectStatus.SCREENING_PENDING
        assigned = not (failed or pending) and arm in arms
        dosed = assigned and not pd.isna(s.first_dose)
        reason = (
            "SCREEN FAILURE"
            if failed
            else "NOT ASSIGNED"
            if not assigned
            else ""
            if dosed
            else "ASSIGNED, NOT TREATED"
        )
        # while on study, participation so far ends at the last known contact
        end = s.ended_on if not pd.isna(s.ended_on) else last_seen.get(s.subject)
        rows.append(
            {
                "USUBJID": who.usubjid,
                "SUBJID": s.subject,
                "RFSTDTC": iso(s.first_dose),
                "RFENDTC": iso(s.last_dose),
                "RFXSTDTC": iso(s.first_dose),
                "RFXENDTC": iso(s.last_dose),
                "RFICDTC": "",
                "RFPENDTC": iso(end),
                "SITEID": s.site,
                "AGE": s.age,
                "AGEU": "YEARS" if not pd.isna(s.age) else "",
                "SEX": {"female": "F", "male": "M"}.get(s.sex, "U")
                if isinstance(s.sex, str)
                else "",
                "RACE": "",
                "ETHNIC": "",
                "ARMCD": arm if assigned else "",
                "ARM": arms.get(arm, "") if assigned else "",
                "ACTARMCD": arm if dosed else "",
                "ACTARM": arms.get(arm, "") if dosed else "",
                "ARMNRS": reason,
                "COUNTRY": data.protocol.country or "",
            }
        )
        smoking = VOCAB["smoking"].get(s.smoking) if isinstance(s.smoking, str) else None
        _supp(supp, "DM", who.usubjid, "", "", "SMOKSTAT", "Smoking Status", smoking)
        _supp(supp, "DM", who.usubjid, "", "", "PACKYRS", "Pack-Years", _number(s.pack_years))
        _supp(
            supp,
            "DM",
            who.usubjid,
            "",
            "",
            "PPPDURM",
            "PPP Duration (Months)",
            _number(s.disease_duration_months),
        )
    return rows


def _allocated_arms(data: StudyData) -> dict[str, str]:
    """Each randomized subject's arm as this reader may see it (pooled when blinded)."""
    frame = data.allocation
    return dict(zip(frame["subject"], frame["arm"], strict=True)) if len(frame) else {}


def _last_record_date(data: StudyData, extra: ExchangeData) -> pd.Series:
    """Each subject's latest dated record: visit, study drug, lab sample or adverse event."""
    dated = [
        (extra.visits, "visit_date"),
        (data.exposure, "start_date"),
        (data.exposure, "end_date"),
        (extra.labs, "sample_date"),
        (extra.adverse_events, "start_date"),
        (extra.adverse_events, "end_date"),
    ]
    dates = pd.concat(
        [
            frame[["subject", column]].rename(columns={column: "date"}).dropna()
            for frame, column in dated
        ]
    )
    return dates.groupby("subject")["date"].max()


def _ds(data: StudyData, subjects: dict[str, _Subject]) -> list[Row]:
    rows = []
    frame = data.allocation
    randomized = (dict(zip(frame["subject"], frame["randomized_on"], strict=True))
                  if len(frame) else {})  # fmt: skip
    for s in _records(data.subjects):
        who = subjects[s.subject]

        def add(term: str, decod: str, cat: str, when: Any, *, who: _Subject = who) -> None:
            rows.append(
                {
                    "USUBJID": who.usubjid,
                    "DSTERM": term,
                    "DSDECOD": decod,
                    "DSCAT": cat,
                    "EPOCH": epoch(when, who.first, who.last),
                    "DSSTDTC": iso(when),
                    "DSSTDY": study_day(when, who.first),
                }
            )

        if s.status == SubjectStatus.SCREEN_FAILURE:
            add("SCREEN FAILURE", "SCREEN FAILURE", "DISPOSITION EVENT", s.screened_on)
        if not pd.isna(s.enrolled_on):
            add(
                "ELIGIBILITY CRITERIA MET",
                "ELIGIBILITY CRITERIA MET",
                "PROTOCOL MILESTONE",
                s.enrolled_on,
            )
        if s.subject in randomized:
            add("RANDOMIZED", "RANDOMIZED", "PROTOCOL MILESTONE", randomized[s.subject])
        if s.status == SubjectStatus.COMPLETED:
            add("COMPLETED", "COMPLETED", "DISPOSITION EVENT", s.ended_on)
        elif s.status == SubjectStatus.WITHDRAWN:
            reason = str(s.end_reason or "")
            add(reason[:200], disposition_term(reason), "DISPOSITION EVENT", s.ended_on)
    return rows


def _sv(protocol: Protocol, extra: ExchangeData, subjects: dict[str, _Subject]) -> list[Row]:
    numbers = visit_numbers(protocol)
    baseline = protocol.baseline_visit.code
    rows = []
    for v in _records(extra.visits):
        who = subjects.get(v.subject)
        if who is None or v.visit_code not in numbers:
            continue
        num, label = numbers[v.visit_code]
        done = v.status == "done"
        when = v.visit_date
        rows.append(
            {
                "USUBJID": who.usubjid,
                "VISITNUM": num,
                "VISIT": label,
                "SVPRESP": "Y",
                "SVOCCUR": "Y" if done else "N",
                "SVREASOC": "" if done else str(v.notes or "")[:200],
                "EPOCH": epoch(when, who.first, who.last, before_dose=v.visit_code == baseline),
                "SVSTDTC": iso(when),
                "SVENDTC": iso(when),
                "SVSTDY": study_day(when, who.first),
                "SVENDY": study_day(when, who.first),
            }
        )
    return sorted(rows, key=lambda r: (r["USUBJID"], r["VISITNUM"]))


def _dosing_intervals(
    start: Any, end: Any, breaks: list[tuple[Any, Any]]
) -> Iterator[tuple[Any, Any]]:
    """The exposure's days with the interruptions taken out: one interval per dosing run."""
    one = pd.Timedelta(days=1)
    current = start
    for b_start, b_end in sorted(breaks, key=lambda b: b[0]):
        if b_start > current:
            yield current, b_start - one
        if pd.isna(b_end):
            return
        current = b_end + one
    if pd.isna(end) or current <= end:
        yield current, end


def _ex(data: StudyData, subjects: dict[str, _Subject]) -> list[Row]:
    routes = {t.drug: t.route for a in data.protocol.arms for t in a.treatments}
    stops: dict[str, list[Any]] = {}
    for i in _records(data.interruptions):
        stops.setdefault(i.subject, []).append(i)
    rows = []
    for e in _records(data.exposure.sort_values(["subject", "start_date"])):
        who = subjects[e.subject]
        within = [
            (i.start_date, i.end_date)
            for i in stops.get(e.subject, [])
            if i.start_date >= e.start_date and (pd.isna(e.end_date) or i.start_date <= e.end_date)
        ]
        for start, end in _dosing_intervals(e.start_date, e.end_date, within):
            rows.append(
                {
                    "USUBJID": who.usubjid,
                    "EXTRT": str(e.drug).upper(),
                    "EXDOSE": e.dose,
                    "EXDOSU": e.unit,
                    "EXDOSFRQ": FREQUENCY.get(str(e.frequency).lower(), ""),
                    "EXROUTE": routes.get(e.drug, "").upper(),
                    "EPOCH": "TREATMENT",
                    "EXSTDTC": iso(start),
                    "EXENDTC": iso(end),
                    "EXSTDY": study_day(start, who.first),
                    "EXENDY": study_day(end, who.first),
                }
            )
    return rows


def _cm(
    data: StudyData, extra: ExchangeData, subjects: dict[str, _Subject], supp: list[Row]
) -> list[Row]:
    rows: list[Row] = []
    by_subject: dict[str, int] = {}
    categories, responses = VOCAB["prior_category"], VOCAB["prior_response"]
    for p in _records(data.prior_therapies):
        who = subjects[p.subject]
        seq = by_subject[p.subject] = by_subject.get(p.subject, 0) + 1
        rows.append(
            {
                "USUBJID": who.usubjid,
                "CMSEQ": seq,
                "CMTRT": str(p.drug).upper(),
                "CMCAT": "PRIOR PPP THERAPY",
                "CMSCAT": categories.get(p.category, p.category).upper(),
                "CMINDC": "PALMOPLANTAR PUSTULOSIS",
                # no dates are collected for prior therapies: both ends are before the study,
                # and so is the trial design's first epoch: EPOCH stays empty
                "CMSTRF": "BEFORE",
                "CMENRF": "BEFORE",
            }
        )
        _supp(
            supp,
            "CM",
            who.usubjid,
            "CMSEQ",
            seq,
            "CMRESP",
            "Response to Prior Therapy",
            responses.get(p.response, p.response),
        )
    for m in _records(extra.con_meds):
        if m.subject not in subjects:
            continue
        who = subjects[m.subject]
        seq = by_subject[m.subject] = by_subject.get(m.subject, 0) + 1
        before = not pd.isna(m.end_date) and not pd.isna(who.first) and m.end_date < who.first
        rows.append(
            {
                "USUBJID": who.usubjid,
                "CMSEQ": seq,
                "CMTRT": str(m.drug).upper(),
                "CMCAT": "CONCOMITANT MEDICATION",
                "CMINDC": m.indication,
                "CMDOSTXT": m.dose,
                "EPOCH": epoch(m.start_date, who.first, who.last),
                "CMSTDTC": iso(m.start_date),
                "CMENDTC": iso(m.end_date),
                "CMSTDY": study_day(m.start_date, who.first),
                "CMENDY": study_day(m.end_date, who.first),
                "CMENRF": "BEFORE" if before else "",
            }
        )
    return sorted(rows, key=lambda r: (r["USUBJID"], r["CMSEQ"]))


def _mh(data: StudyData, subjects: dict[str, _Subject]) -> list[Row]:
    rows = []
    for s in _records(data.subjects):
        who = subjects[s.subject]
        if pd.isna(s.disease_duration_months):
            continue
        rows.append(
            {
                "USUBJID": who.usubjid,
                "MHTERM": "PALMOPLANTAR PUSTULOSIS",
                "MHCAT": "PRIMARY DIAGNOSIS",
                "MHPRESP": "",
                "MHOCCUR": "",
            }
        )
        for column, vocab, cat in (
            ("comorbidities", "comorbidity", "COMORBIDITY"),
            ("triggers", "trigger", "TRIGGER FACTOR"),
        ):
            for item in getattr(s, column) or []:
                rows.append(
                    {
                        "USUBJID": who.usubjid,
                        "MHCAT": cat,
                        "MHPRESP": "Y",
                        "MHOCCUR": "Y",
                        "MHTERM": VOCAB[vocab].get(item, item).upper(),
                    }
                )
    return rows


def _ae(extra: ExchangeData, subjects: dict[str, _Subject], supp: list[Row]) -> list[Row]:
    rows = []
    seqs: dict[str, int] = {}
    for a in _records(extra.adverse_events):
        who = subjects.get(a.subject)
        if who is None:
            continue
        seq = seqs[a.subject] = seqs.get(a.subject, 0) + 1
        criteria = set(a.serious_criteria)
        row = {
            "USUBJID": who.usubjid,
            "AESEQ": seq,
            "AETERM": a.term,
            "AEDECOD": a.meddra_pt or "",
            "AEPTCD": a.meddra_pt_code,
            "AEBODSYS": a.meddra_soc or "",
            "AEBDSYCD": a.meddra_soc_code,
            "AESOC": a.meddra_soc or "",
            "AESOCCD": a.meddra_soc_code,
            "AESER": "Y" if a.serious else "N",
            "AEACN": ACTION.get(a.action_taken, ""),
            "AEREL": RELATEDNESS.get(a.relatedness, ""),
            "AEOUT": OUTCOME.get(a.outcome, ""),
            "AETOXGR": str(int(a.grade)),
            "EPOCH": epoch(a.start_date, who.first, who.last),
            "AESTDTC": iso(a.start_date),
            "AEENDTC": iso(a.end_date),
            "AESTDY": study_day(a.start_date, who.first),
            "AEENDY": study_day(a.end_date, who.first),
        }
        for criterion, flag in SERIOUS_FLAGS.items():
            row[flag] = ("Y" if criterion in criteria else "N") if a.serious else ""
        rows.append(row)
        emergent = a.treatment_emergent
        flag = "" if emergent is None or pd.isna(emergent) else ("Y" if emergent else "N")
        _supp(
            supp,
            "AE",
            who.usubjid,
            "AESEQ",
            seq,
            "AETRTEM",
            "Treatment Emergent Flag",
            flag,
            "Derived",
        )
    return rows


def _visits_by_day(
    protocol: Protocol, extra: ExchangeData
) -> dict[tuple[str, str], tuple[float, str]]:
    """(subject, ISO date) -> (VISITNUM, VISIT) of the visit done that day."""
    numbers = visit_numbers(protocol)
    return {(v.subject, iso(v.visit_date)): numbers[v.visit_code]
            for v in _records(extra.visits)
            if v.status == "done" and v.visit_code in numbers}  # fmt: skip


def _lb(protocol: Protocol, extra: ExchangeData, subjects: dict[str, _Subject]) -> list[Row]:
    """LB: a sample taken on the day of a visit carries that visit's VISITNUM and VISIT
    (SDTMIG 3.4 §4.4.5); a sample on another day is unscheduled and has none."""
    rows = []
    seqs: dict[str, int] = {}
    on_visit_day = _visits_by_day(protocol, extra)
    for lab in _records(extra.labs):
        who = subjects.get(lab.subject)
        if who is None or lab.test not in LAB_TESTS:
            continue
        testcd, test, cat = LAB_TESTS[lab.test]
        unit = STANDARD_UNIT.get(lab.test, lab.unit)
        value = convert_unit(lab.test, float(lab.value), lab.unit, to=unit)
        low, high = lab.lower_limit, lab.upper_limit
        indicator = ""
        if not (pd.isna(low) and pd.isna(high)):
            indicator = (
                "LOW"
                if not pd.isna(low) and lab.value < low
                else "HIGH"
                if not pd.isna(high) and lab.value > high
                else "NORMAL"
            )
        seq = seqs[lab.subject] = seqs.get(lab.subject, 0) + 1
        result = _number(value)
        visit = on_visit_day.get((lab.subject, iso(lab.sample_date)))
        rows.append(
            {
                "USUBJID": who.usubjid,
                "LBSEQ": seq,
                "LBTESTCD": testcd,
                "LBTEST": test,
                "LBCAT": cat,
                "LBORRES": _number(lab.value),
                "LBORRESU": lab.unit,
                "LBORNRLO": _number(low),
                "LBORNRHI": _number(high),
                "LBSTRESC": result,
                "LBSTRESN": float(result),  # the number LBSTRESC shows, exactly
                "LBSTRESU": unit,
                "LBNRIND": indicator,
                "LBTOXGR": "" if pd.isna(lab.ctcae_grade) else str(int(lab.ctcae_grade)),
                "VISITNUM": visit[0] if visit else None,
                "VISIT": visit[1] if visit else "",
                "EPOCH": epoch(
                    lab.sample_date, who.first, who.last, before_dose=not lab.on_treatment
                ),
                "LBDTC": iso(lab.sample_date),
                "LBDY": study_day(lab.sample_date, who.first),
                "_pre": not lab.on_treatment
                and (pd.isna(who.first) or lab.sample_date <= who.first),
            }
        )
    _last_before_exposure(rows, "LBTESTCD", "LBDTC", "LBLOBXFL")
    return rows


def _last_before_exposure(rows: list[Row], test: str, when: str, flag: str) -> None:
    """Flag, per subject and test, the latest pre-dose record with a result."""
    latest: dict[tuple[str, str], Row] = {}
    for row in rows:
        pre = row.pop("_pre")
        row[flag] = ""
        if pre and row[when]:
            key = (row["USUBJID"], row[test])
            if key not in latest or row[when] >= latest[key][when]:
                latest[key] = row
    for row in latest.values():
        row[flag] = "Y"


_QS_ITEM = ("QSTESTCD", "QSTEST", "QSORRES", "QSORRESU", "QSSTRESC", "QSSTRESN", "QSSTAT",
            "QSREASND", "QSDRVFL")  # fmt: skip
_QS_VISIT = ("USUBJID", "QSCAT", "VISITNUM", "VISIT", "QSDTC", "QSDY", "EPOCH", "_pre")


def _qs(protocol: Protocol, extra: ExchangeData, subjects: dict[str, _Subject]) -> pd.DataFrame:
    """QS, one record per item and derived score. Built as columns rather than row dicts:
    a registry of 10,000 subjects has over a million QS records."""
    numbers = visit_numbers(protocol)
    baseline = protocol.baseline_visit.code
    dates = {(v.subject, v.visit_code): v.visit_date for v in _records(extra.visits)}
    order = extra.items["visit_code"].map(lambda c: numbers.get(c, (float("inf"),))[0])
    items = extra.items.assign(_order=order).sort_values(["subject", "_order"], kind="stable")
    visits: list[tuple[Any, ...]] = []
    records: list[tuple[Any, ...]] = []
    owner: list[int] = []
    for a in _records(items):
        who = subjects.get(a.subject)
        if who is None or a.instrument not in QS_CATEGORY or a.visit_code not in numbers:
            continue
        when = dates.get((a.subject, a.visit_code))
        num, label = numbers[a.visit_code]
        pre = a.visit_code == baseline and (pd.isna(who.first) or when is None or when <= who.first)
        before = a.visit_code == baseline
        visits.append((who.usubjid, QS_CATEGORY[a.instrument], num, label, iso(when),
                       study_day(when, who.first),
                       epoch(when, who.first, who.last, before_dose=before), pre))  # fmt: skip
        found = list(_qs_records(a))
        records += found
        owner += [len(visits) - 1] * len(found)
    per_visit = pd.DataFrame(visits, columns=list(_QS_VISIT)).iloc[owner].reset_index(drop=True)
    frame = pd.concat([per_visit, pd.DataFrame(records, columns=list(_QS_ITEM))], axis=1)
    frame["QSSEQ"] = frame.groupby("USUBJID", sort=False).cumcount() + 1
    frame["QSLOBXFL"] = ""
    eligible = frame[frame["_pre"] & (frame["QSSTAT"] == "") & (frame["QSDTC"] != "")]
    last = eligible.sort_values("QSDTC", kind="stable").groupby(["USUBJID", "QSTESTCD"]).tail(1)
    frame.loc[last.index, "QSLOBXFL"] = "Y"
    evaluator = {category: QS_EVALUATOR[i] for i, category in QS_CATEGORY.items()}
    frame["QSEVAL"] = frame["QSCAT"].map(evaluator).fillna("")
    return frame.drop(columns=["_pre"])


def _qs_records(a: Any) -> Iterator[tuple[Any, ...]]:
    """The assessment's items, then its derived scores; one QSALL record when not done."""
    if a.not_done_reason:
        reason = str(a.not_done_reason)[:200]
        yield ("QSALL", "Questionnaire", "", "", "", None, "NOT DONE", reason, "")
        return
    tests = qs_tests(a.instrument)
    items: dict[str, Any] = a.items or {}
    for name, value in items.items():
        if name in tests:
            yield from _item_records(a.instrument, name, value)
    for region, score in (a.subscores or {}).items():
        if f"{region}:score" in tests:
            yield _result(*tests[f"{region}:score"], None, score, derived=True)
    if ":total" in tests and a.total is not None and not pd.isna(a.total):
        yield _result(*tests[":total"], None, a.total, derived=True)


@functools.cache
def _item_records(instrument: str, name: str, value: Any) -> tuple[tuple[Any, ...], ...]:
    """An item's record (and, for an area percentage, its derived area score): the same
    answer always gives the same records, so each is made once."""
    tests = qs_tests(instrument)
    testcd, test = tests[name]
    if value is None:
        return ((testcd, test, "", "", "", None, "NOT DONE", "NOT ANSWERED", ""),)
    score = item_score(instrument, name, value)
    if not name.endswith("_area_pct"):
        return (_result(testcd, test, value, score),)
    area = tests[name.replace("_area_pct", "_area_score")]
    return (
        _result(testcd, test, value, score, unit="%"),
        _result(*area, None, area_score_from_percent(float(value)), derived=True),
    )


def _result(
    testcd: str, test: str, raw: Any, score: Any, *, unit: str = "", derived: bool = False
) -> tuple[Any, ...]:
    text = _number(score)
    return (testcd, test, text if raw is None else str(raw), unit, text, score, "", "",
            "Y" if derived else "")  # fmt: skip
