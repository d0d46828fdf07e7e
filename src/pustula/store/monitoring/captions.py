"""A few words that tell a reader which record a query or a history is about.

"Adverse event 7" names a row of the database, not an event a coordinator can find in the
casebook; "Itchy rash, from 2024-05-02" does. Removed records keep their caption, since a
query or a history may still point at them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.checks.vocabulary import label
from pustula.protocol.model import Protocol
from pustula.scoring.pppasi import REGION_LABELS
from pustula.store.db.models import Assessment, Record, Subject, User
from pustula.store.monitoring.queries import SUBJECT_RECORD_TABLES
from pustula.store.records.study import get_study, protocol_of

__all__ = ["Caption", "Key", "caption_of", "captions"]

Key = tuple[str, int]

#: Enough for any database's limit on bound parameters.
_CHUNK = 500


def _visit_name(protocol: Protocol, code: str) -> str:
    try:
        return protocol.visit(code).label
    except KeyError:  # a visit the protocol no longer has keeps its code, in words
        return code.replace("_", " ")


def _dated(text: str, day: object) -> str:
    return f"{text}, {day}" if day else text


#: Records named by their own columns; an assessment is named by its visit, a subject's
#: baseline (one per subject) by the subject's code.
_WORDS: dict[str, Callable[[Any], str]] = {
    "eligibility_result": lambda r: r.text,
    "prior_therapy": lambda r: r.drug,
    "exposure": lambda r: f"{r.drug} from {r.start_date}",
    "adverse_event": lambda r: f"{r.term}, from {r.start_date}",
    "lab": lambda r: _dated(label("lab_test", r.test), r.sample_date),
    "con_med": lambda r: r.drug,
    "photograph": lambda r: f"{REGION_LABELS.get(r.region, r.region)} photograph",
    "diary_entry": lambda r: f"diary, {r.entry_date}",
    "app_user": lambda r: r.username,
}
_MODELS: dict[str, type[Record]] = {
    **SUBJECT_RECORD_TABLES, "subject": Subject, "assessment": Assessment, "app_user": User,
}  # fmt: skip


@dataclass(frozen=True)
class Caption:
    text: str
    #: the code of the subject the record belongs to (None: a user account)
    subject: str | None


def captions(session: Session, keys: Iterable[Key]) -> dict[Key, Caption]:
    """The caption of each (table, id) found; tables without captions are left out."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for table, record_id in keys:
        if table in _MODELS:
            wanted[table].add(record_id)
    if not wanted:
        return {}
    protocol = protocol_of(get_study(session))
    rows = {table: _rows(session, table, ids) for table, ids in wanted.items()}
    visits = _with(
        session, rows, "visit", {a.visit_id for a in rows.get("assessment", {}).values()}
    )
    owners = {getattr(r, "subject_id", None) for named in rows.values() for r in named.values()}
    subjects = _with(session, rows, "subject", {
        *(v.subject_id for v in visits.values()), *owners} - {None})  # fmt: skip

    def owner(table: str, row: Any) -> str | None:
        if table == "app_user":
            return None
        if table == "assessment":
            return str(subjects[visits[row.visit_id].subject_id].code)
        return str(subjects[row.id if table == "subject" else row.subject_id].code)

    found: dict[Key, Caption] = {}
    for table, named in rows.items():
        for record_id, row in named.items():
            if table == "assessment":
                at = _visit_name(protocol, visits[row.visit_id].visit_code)
                text = f"{label('instrument', row.instrument)} at {at}"
            elif table == "visit":
                text = _dated(_visit_name(protocol, row.visit_code), row.visit_date)
            elif table in ("subject", "baseline"):  # one per subject: its code names it
                text = owner(table, row) or ""
            else:
                text = _WORDS[table](row)
            found[table, record_id] = Caption(text, owner(table, row))
    return found


def caption_of(session: Session, table: str, record_id: int) -> str:
    """The caption of one record ("" when its table has none or it does not exist)."""
    found = captions(session, [(table, record_id)]).get((table, record_id))
    return "" if found is None else found.text


def _with(session: Session, rows: dict[str, dict[int, Any]], table: str,
          more: set[int]) -> dict[int, Any]:  # fmt: skip
    """The rows of ``table`` already read, and those of ``more`` not read yet."""
    have = rows.get(table, {})
    return have | _rows(session, table, more - set(have))


def _rows(session: Session, table: str, ids: set[int]) -> dict[int, Any]:
    model = _MODELS[table]
    ordered = sorted(ids)
    rows: dict[int, Any] = {}
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        rows.update((r.id, r) for r in session.scalars(select(model).where(model.id.in_(chunk))))
    return rows
