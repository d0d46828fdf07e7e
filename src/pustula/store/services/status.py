"""The study's record status grid (REDCap's record status dashboard): each subject × each
planned visit and each form, with one state a coordinator or monitor acts on.

A cell's state is the first that holds, in this order: ``locked``; ``queried`` (an open
query on one of its records); ``signed`` (by the investigator, and unchanged since);
``verified`` (every record verified against the source at its current version);
``entered``. A visit without a record is ``missing`` (its window has passed), ``missed``
(recorded as missed), ``due``, ``upcoming`` or ``none`` (not expected: the subject is not
on study).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from pustula.protocol.status import ENROLLED_STATES
from pustula.store.db.models import Site, Subject
from pustula.store.db.uow import Store
from pustula.store.monitoring.queries import Timeline, subject_timeline, visit_schedule
from pustula.store.records.study import get_study, protocol_of

__all__ = ["FORMS", "STATES", "Cell", "StatusGrid", "StatusRow", "status_grid"]

#: Every state a cell can take, in the order a legend lists them, with its words.
STATES: dict[str, str] = {
    "missing": "Missing (window passed)", "missed": "Missed", "due": "Due now",
    "upcoming": "Upcoming", "entered": "Entered", "queried": "Open query",
    "verified": "Verified", "signed": "Signed", "locked": "Locked", "none": "Not expected",
}  # fmt: skip
#: The forms that are not tied to a visit: (timeline collection, table, heading).
FORMS: tuple[tuple[str, str, str], ...] = (
    ("exposure", "exposure", "Study drug"),
    ("adverse_events", "adverse_event", "Adverse events"),
    ("labs", "lab", "Labs"),
    ("con_meds", "con_med", "Medications"),
)
_PLANNED = {"overdue": "missing", "due": "due", "upcoming": "upcoming", "missed": "missed"}


@dataclass(frozen=True)
class Cell:
    state: str
    #: records in the cell, and how many of them are verified at their current version
    records: int = 0
    verified: int = 0

    @property
    def words(self) -> str:
        """The state in words, with the verification count while it is incomplete."""
        text = STATES[self.state]
        if self.state == "entered" and self.verified:
            return f"{text}; {self.verified} of {self.records} verified"
        return text


@dataclass(frozen=True)
class StatusRow:
    subject: str
    site: str
    status: str
    visits: dict[str, Cell]
    forms: dict[str, Cell]


@dataclass(frozen=True)
class StatusGrid:
    visits: list[tuple[str, str]]  # (code, label) in the protocol's order
    rows: list[StatusRow]
    counts: Counter[str] = field(default_factory=Counter)


def _cell(t: Timeline, records: Sequence[tuple[str, Any]], *, signed: bool) -> Cell:
    if not records:
        return Cell("none")
    done = sum(t.verified(table, r.id, r.version) for table, r in records)
    n = len(records)
    if t.lock is not None:
        state = "locked"
    elif any(t.open_queries(table, r.id) for table, r in records):
        state = "queried"
    elif signed:
        state = "signed"
    elif done == n:
        state = "verified"
    else:
        state = "entered"
    return Cell(state, n, done)


def _row(t: Timeline, protocol: Any, planned: dict[str, str]) -> StatusRow:
    casebook_signed = t.signature is not None
    by_code = {v.visit_code: v for v in t.visits}
    visits: dict[str, Cell] = {}
    for p in protocol.visits:
        visit = by_code.get(p.code)
        if visit is None:
            visits[p.code] = Cell(_PLANNED.get(planned.get(p.code, ""), "none"))
        elif visit.status == "missed":
            visits[p.code] = Cell("missed")
        else:
            signed = casebook_signed or any(
                g.visit_id == visit.id and g.invalidated_at is None for g in t.signatures
            )
            records = [("visit", visit), *(("assessment", a) for a in t.assessments[visit.id])]
            visits[p.code] = _cell(t, records, signed=signed)
    forms = {
        table: _cell(t, [(table, r) for r in getattr(t, collection)], signed=casebook_signed)
        for collection, table, _ in FORMS
    }
    s = t.subject
    return StatusRow(s.code, t.site, s.status, visits, forms)


def status_grid(
    store: Store, *, sites: list[str] | None, today: date, site: str | None = None
) -> StatusGrid:
    """Every enrolled subject's row (those on study, withdrawn or completed) of the sites
    the user sees, or of ``site`` alone."""
    with store.reader() as session:
        study = get_study(session)
        protocol = protocol_of(study)
        shown = [site] if site else sites
        if sites is not None and site is not None and site not in sites:
            shown = []
        planned: dict[str, dict[str, str]] = {}
        for p in visit_schedule(session, study, sites=shown, today=today):
            planned.setdefault(p.subject, {})[p.visit_code] = p.state
        subjects = session.execute(
            select(Subject, Site.code)
            .join(Site, Site.id == Subject.site_id)
            .where(Subject.study_id == study.id, Subject.deleted_at.is_(None),
                   Subject.status.in_([str(s) for s in ENROLLED_STATES]))
            .order_by(Subject.code)
        ).all()  # fmt: skip
        rows = []
        for subject, code in subjects:
            if shown is not None and code not in shown:
                continue
            t = subject_timeline(session.connection(), subject, site=code)
            rows.append(_row(t, protocol, planned.get(subject.code, {})))
    counts: Counter[str] = Counter(
        c.state for r in rows for c in (*r.visits.values(), *r.forms.values())
    )
    return StatusGrid([(v.code, v.label) for v in protocol.visits], rows, counts)
