"""The edit checks that open automatic data queries, run on one subject's saved records.

Each finding names the record and field it is about; a query stays open while its finding
does, and closes itself when the data no longer raise it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.checks.vocabulary import field_label, label
from pustula.protocol import Protocol
from pustula.protocol.status import SubjectStatus, VisitStatus, WindowStatus
from pustula.store.db.models import (
    AdverseEvent,
    Assessment,
    Exposure,
    ExposureInterruption,
    Lab,
    Subject,
    Visit,
)

__all__ = ["RULES", "RULES_OF_TABLE", "Finding", "SubjectData", "findings", "findings_in"]

RULES = {
    "visit_window": "Visit outside its window",
    "lab_alert": "Lab alert",
    "required_missing": "Required value missing",
    "pppasi_region": "Inconsistent PPPASI region",
    "ae_dates": "Adverse event ends before it starts",
    "ae_coding": "Incomplete MedDRA coding",
    "dose_after_end": "Study drug after withdrawal or end of study",
    "dose_outside_protocol": "Dose outside the protocol",
    "ae_action_exposure": "Adverse event's action on study drug not in the dosing record",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    table_name: str
    record_id: int
    field: str | None
    text: str

    @property
    def key(self) -> tuple[str, str, int, str | None]:
        return (self.rule, self.table_name, self.record_id, self.field)


#: The rules a change of each table can start or end (a save re-runs only those).
RULES_OF_TABLE = {
    "visit": ("visit_window", "pppasi_region", "required_missing"),
    "assessment": ("visit_window", "pppasi_region", "required_missing"),
    "lab": ("lab_alert",),
    "adverse_event": ("ae_dates", "ae_coding", "ae_action_exposure"),
    "subject": ("dose_after_end",),
    "exposure": ("dose_after_end", "dose_outside_protocol", "ae_action_exposure"),
    "exposure_interruption": ("ae_action_exposure",),
}


@dataclass(frozen=True)
class SubjectData:
    """The live records edit checks read, of one subject (rows with the tables' columns
    as attributes: ORM records, or the rows of an import not yet saved)."""

    subject: Any
    visits: Sequence[Any] = ()
    assessments: Sequence[Any] = ()
    labs: Sequence[Any] = ()
    adverse_events: Sequence[Any] = ()
    exposures: Sequence[Any] = ()
    interruptions: Sequence[Any] = ()


def findings(
    session: Session, subject: Subject, protocol: Protocol, rules: frozenset[str] | None = None
) -> list[Finding]:
    """What the edit checks find in the subject's records now (only ``rules``, if given)."""
    wanted = frozenset(RULES) if rules is None else rules
    return findings_in(_load(session, subject, wanted), protocol, wanted)


def _live(session: Session, model: Any, subject_id: int) -> list[Any]:
    return list(session.scalars(
        select(model).where(model.subject_id == subject_id, model.deleted_at.is_(None))
    ))  # fmt: skip


def _load(session: Session, subject: Subject, wanted: frozenset[str]) -> SubjectData:
    visits: list[Any] = []
    assessments: list[Any] = []
    if wanted & _VISIT_RULES:
        visits = _live(session, Visit, subject.id)
        done = [v.id for v in visits if v.status == VisitStatus.DONE]
        assessments = list(session.scalars(select(Assessment).where(
            Assessment.visit_id.in_(done), Assessment.deleted_at.is_(None)
        )))  # fmt: skip
    labs = _live(session, Lab, subject.id) if "lab_alert" in wanted else []
    aes = _live(session, AdverseEvent, subject.id) if wanted & _AE_RULES else []
    doses = _live(session, Exposure, subject.id) if wanted & _DOSE_RULES else []
    pauses: list[Any] = []
    if "ae_action_exposure" in wanted and doses:
        pauses = list(session.scalars(select(ExposureInterruption).where(
            ExposureInterruption.exposure_id.in_([d.id for d in doses]),
            ExposureInterruption.deleted_at.is_(None),
        )))  # fmt: skip
    return SubjectData(subject, visits, assessments, labs, aes, doses, pauses)


_VISIT_RULES = frozenset({"visit_window", "pppasi_region", "required_missing"})
_AE_RULES = frozenset({"ae_dates", "ae_coding", "ae_action_exposure"})
_DOSE_RULES = frozenset({"dose_after_end", "dose_outside_protocol", "ae_action_exposure"})


def findings_in(
    data: SubjectData, protocol: Protocol, rules: frozenset[str] | None = None
) -> list[Finding]:
    """What the edit checks find in these records of one subject (only ``rules``, if given)."""
    wanted = frozenset(RULES) if rules is None else rules
    found: list[Finding] = []
    if wanted & _VISIT_RULES:
        found += _visit_findings(data.visits, data.assessments, protocol)
    if "lab_alert" in wanted:
        found += _lab_findings(data.labs)
    if "ae_dates" in wanted:
        found += _ae_findings(data.adverse_events)
    if "ae_coding" in wanted:
        found += [f for ae in data.adverse_events for f in _coding_findings(ae)]
    if "dose_after_end" in wanted:
        found += _dose_findings(data.subject, data.exposures)
    if "dose_outside_protocol" in wanted:
        found += _regimen_findings(data.exposures, protocol)
    if "ae_action_exposure" in wanted:
        found += _action_findings(data.adverse_events, data.exposures, data.interruptions)
    return [f for f in found if f.rule in wanted]


def _visit_findings(
    visits: Sequence[Any], assessments: Sequence[Any], protocol: Protocol
) -> list[Finding]:
    found: list[Finding] = []
    done = [v for v in visits if v.status == VisitStatus.DONE]
    planned = {v.code: v for v in protocol.visits}
    for v in done:
        if v.window_status in (WindowStatus.EARLY, WindowStatus.LATE):
            found.append(Finding("visit_window", "visit", v.id, "visit_date",
                                 f"{planned[v.visit_code].label} on study day {v.study_day} is "
                                 f"{label('window_status', v.window_status).lower()}: confirm "
                                 "the date"))  # fmt: skip
    done_ids = {v.id for v in done}
    by_visit: dict[int, set[str]] = {}
    for a in assessments:
        if a.visit_id not in done_ids:
            continue
        by_visit.setdefault(a.visit_id, set()).add(a.instrument)
        for warning in a.warnings or []:
            found.append(Finding("pppasi_region", "assessment", a.id, "items", str(warning)))
    for v in done:
        for instrument in planned[v.visit_code].instruments:
            if instrument not in by_visit.get(v.id, set()):
                found.append(Finding("required_missing", "visit", v.id, instrument,
                                     f"{label('instrument', instrument)} is not recorded at "
                                     f"{planned[v.visit_code].label}: enter it, or mark it not "
                                     "done with the reason"))  # fmt: skip
    return found


def _lab_findings(labs: Sequence[Any]) -> list[Finding]:
    return [
        Finding("lab_alert", "lab", lab.id, "value",
                "; ".join(str(a.get("text", "")) for a in lab.alerts)
                + ": confirm the value and the action taken")
        for lab in labs
        if lab.alerts
    ]  # fmt: skip


def _ae_findings(aes: Sequence[Any]) -> list[Finding]:
    return [
        Finding("ae_dates", "adverse_event", ae.id, "end_date", "the event ends before it starts")
        for ae in aes
        if ae.end_date is not None and ae.end_date < ae.start_date
    ]


#: MedDRA terms and their codes, which a coder enters together.
_CODED_PAIRS = (("meddra_pt", "meddra_pt_code"), ("meddra_soc", "meddra_soc_code"))


def _coding_findings(ae: Any) -> list[Finding]:
    """Coding begun but not finished: a term without its code or a code without its term,
    and a coded preferred term without its system organ class (SDTM's AEBODSYS and the
    safety tables by SOC need it)."""
    found: list[Finding] = []
    for term, code in _CODED_PAIRS:
        given, missing = (term, code) if getattr(ae, term) else (code, term)
        if getattr(ae, given) and not getattr(ae, missing):
            found.append(Finding("ae_coding", "adverse_event", ae.id, missing,
                                 f"{field_label(given)} “{getattr(ae, given)}” has no "
                                 f"{field_label(missing)}: complete the coding"))  # fmt: skip
    pt_coded = ae.meddra_pt or ae.meddra_pt_code
    if pt_coded and not (ae.meddra_soc or ae.meddra_soc_code):
        found.append(Finding("ae_coding", "adverse_event", ae.id, "meddra_soc",
                             "the preferred term is coded but not its MedDRA system organ "
                             "class: complete the coding"))  # fmt: skip
    return found


def _dose_findings(subject: Any, exposures: Sequence[Any]) -> list[Finding]:
    ended = subject.ended_on
    if subject.status not in (SubjectStatus.WITHDRAWN, SubjectStatus.COMPLETED) or not ended:
        return []
    return [
        Finding("dose_after_end", "exposure", e.id, "end_date",
                f"study drug is recorded after the end of participation on {ended}")
        for e in exposures
        if e.end_date is None or e.end_date > ended
    ]  # fmt: skip


def _regimen_findings(exposures: Sequence[Any], protocol: Protocol) -> list[Finding]:
    """A course of study drug that is none of the protocol's allowed regimens (a protocol
    that declares none is not checked)."""
    allowed = protocol.regimens
    if not allowed:
        return []
    return [
        Finding("dose_outside_protocol", "exposure", e.id, "dose",
                f"{e.drug} {e.dose:g} {e.unit} {e.frequency} is not a dose the protocol "
                f"allows ({'; '.join(r.label for r in allowed)}): confirm it and the reason")
        for e in exposures
        if not any(r.matches(e.drug, e.dose, e.unit, e.frequency) for r in allowed)
    ]  # fmt: skip


def _action_findings(
    aes: Sequence[Any], exposures: Sequence[Any], interruptions: Sequence[Any]
) -> list[Finding]:
    """An adverse event whose action on study drug the dosing record does not show: an
    interruption, a stop, or a lower dose on or after the event's start (the exposure
    figure and EX follow the dosing record, so the two must agree)."""
    found = []
    for ae in aes:
        start, action = ae.start_date, ae.action_taken
        if action == "interrupted":
            ok = any(i.end_date is None or i.end_date >= start for i in interruptions)
            needs = "interruption of study drug on or after the event's start"
        elif action == "withdrawn":
            ok = (
                bool(exposures)
                and all(e.end_date is not None for e in exposures)
                and max(e.end_date for e in exposures) >= start
            )
            needs = "stop of study drug on or after the event's start"
        elif action == "dose_reduced":
            ok = any(
                later.start_date >= start and later.dose * _per_day(later) < e.dose * _per_day(e)
                for e in exposures for later in exposures
            )  # fmt: skip
            needs = "lower dose from the event's start on"
        else:
            continue
        if not ok:
            found.append(Finding("ae_action_exposure", "adverse_event", ae.id, "action_taken",
                                 f"the action taken is {label('action_taken', action).lower()}, "
                                 f"but the dosing record shows no {needs}: "
                                 "record it, or correct the action"))  # fmt: skip
    return found


_PER_DAY = {"once daily": 1.0, "twice daily": 2.0, "three times daily": 3.0, "once weekly": 1 / 7}


def _per_day(exposure: Any) -> float:
    return _PER_DAY.get(" ".join(str(exposure.frequency).lower().split()), 1.0)
