"""The edit checks that open automatic data queries, run on one subject's saved records.

Each finding names the record and field it is about; a query stays open while its finding
does, and closes itself when the data no longer raise it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.checks.vocabulary import label
from pustula.protocol import Protocol
from pustula.protocol.status import SubjectStatus, VisitStatus, WindowStatus
from pustula.store.models import AdverseEvent, Assessment, Exposure, Lab, Subject, Visit

__all__ = ["RULES", "RULES_OF_TABLE", "Finding", "findings"]

RULES = {
    "visit_window": "Visit outside its window",
    "lab_alert": "Lab alert",
    "required_missing": "Required value missing",
    "pppasi_region": "Inconsistent PPPASI region",
    "ae_dates": "Adverse event ends before it starts",
    "dose_after_end": "Study drug after withdrawal or end of study",
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
    "adverse_event": ("ae_dates",),
    "subject": ("dose_after_end",),
    "exposure": ("dose_after_end",),
}


def findings(
    session: Session, subject: Subject, protocol: Protocol, rules: frozenset[str] | None = None
) -> list[Finding]:
    """What the edit checks find in the subject's records now (only ``rules``, if given)."""
    wanted = frozenset(RULES) if rules is None else rules
    found: list[Finding] = []
    if wanted & {"visit_window", "pppasi_region", "required_missing"}:
        found += _visit_findings(session, subject, protocol)
    if "lab_alert" in wanted:
        found += _lab_findings(session, subject)
    if "ae_dates" in wanted:
        found += _ae_findings(session, subject)
    if "dose_after_end" in wanted:
        found += _dose_findings(session, subject)
    return [f for f in found if f.rule in wanted]


def _visit_findings(session: Session, subject: Subject, protocol: Protocol) -> list[Finding]:
    found: list[Finding] = []
    live = select(Visit).where(Visit.subject_id == subject.id, Visit.deleted_at.is_(None))
    done = [v for v in session.scalars(live) if v.status == VisitStatus.DONE]
    planned = {v.code: v for v in protocol.visits}
    for v in done:
        if v.window_status in (WindowStatus.EARLY, WindowStatus.LATE):
            found.append(Finding("visit_window", "visit", v.id, "visit_date",
                                 f"{planned[v.visit_code].label} on study day {v.study_day} is "
                                 f"{label('window_status', v.window_status).lower()}: confirm "
                                 "the date"))  # fmt: skip
    scored = select(Assessment).where(
        Assessment.visit_id.in_([v.id for v in done]), Assessment.deleted_at.is_(None)
    )
    by_visit: dict[int, set[str]] = {}
    for a in session.scalars(scored):
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


def _lab_findings(session: Session, subject: Subject) -> list[Finding]:
    live = select(Lab).where(Lab.subject_id == subject.id, Lab.deleted_at.is_(None))
    return [
        Finding("lab_alert", "lab", lab.id, "value",
                "; ".join(str(a.get("text", "")) for a in lab.alerts)
                + ": confirm the value and the action taken")
        for lab in session.scalars(live)
        if lab.alerts
    ]  # fmt: skip


def _ae_findings(session: Session, subject: Subject) -> list[Finding]:
    live = select(AdverseEvent).where(
        AdverseEvent.subject_id == subject.id, AdverseEvent.deleted_at.is_(None)
    )
    return [
        Finding("ae_dates", "adverse_event", ae.id, "end_date", "the event ends before it starts")
        for ae in session.scalars(live)
        if ae.end_date is not None and ae.end_date < ae.start_date
    ]


def _dose_findings(session: Session, subject: Subject) -> list[Finding]:
    ended = subject.ended_on
    if subject.status not in (SubjectStatus.WITHDRAWN, SubjectStatus.COMPLETED) or not ended:
        return []
    live = select(Exposure).where(Exposure.subject_id == subject.id, Exposure.deleted_at.is_(None))
    return [
        Finding("dose_after_end", "exposure", e.id, "end_date",
                f"study drug is recorded after the end of participation on {ended}")
        for e in session.scalars(live)
        if e.end_date is None or e.end_date > ended
    ]  # fmt: skip
