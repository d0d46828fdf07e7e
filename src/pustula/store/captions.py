"""A few words that tell a reader which record a query or a history is about.

"Adverse event 7" names a row of the database, not an event a coordinator can find in the
casebook; "Itchy rash, from 2024-05-02" does. Removed records keep their caption, since a
query or a history may still point at them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.checks.vocabulary import label
from pustula.protocol.model import Protocol
from pustula.store.models import Assessment, Record, Subject, User
from pustula.store.queries import SUBJECT_RECORD_TABLES
from pustula.store.study import get_study, protocol_of

__all__ = ["Key", "caption_of", "captions"]

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
_WORDS: dict[str, Callable[[Any, Protocol], str]] = {
    "eligibility_result": lambda r, _p: r.text,
    "prior_therapy": lambda r, _p: r.drug,
    "exposure": lambda r, _p: f"{r.drug} from {r.start_date}",
    "adverse_event": lambda r, _p: f"{r.term}, from {r.start_date}",
    "lab": lambda r, _p: _dated(label("lab_test", r.test), r.sample_date),
    "con_med": lambda r, _p: r.drug,
    "app_user": lambda r, _p: r.username,
}
_MODELS: dict[str, type[Record]] = {
    **SUBJECT_RECORD_TABLES, "subject": Subject, "assessment": Assessment, "app_user": User,
}  # fmt: skip


def captions(session: Session, keys: Iterable[Key]) -> dict[Key, str]:
    """The caption of each (table, id) found; tables without captions are left out."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for table, record_id in keys:
        if table in _MODELS:
            wanted[table].add(record_id)
    if not wanted:
        return {}
    protocol = protocol_of(get_study(session))
    rows = {table: _rows(session, table, ids) for table, ids in wanted.items()}
    assessments, baselines = rows.get("assessment", {}), rows.get("baseline", {})
    visits = rows.get("visit", {}) | _rows(session, "visit", {
        a.visit_id for a in assessments.values()} - set(rows.get("visit", {})))  # fmt: skip
    subjects = rows.get("subject", {}) | _rows(session, "subject", {
        b.subject_id for b in baselines.values()} - set(rows.get("subject", {})))  # fmt: skip
    found: dict[Key, str] = {}
    for table, named in rows.items():
        for record_id, row in named.items():
            if table == "assessment":
                at = _visit_name(protocol, visits[row.visit_id].visit_code)
                found[table, record_id] = f"{label('instrument', row.instrument)} at {at}"
            elif table == "visit":
                found[table, record_id] = _dated(_visit_name(protocol, row.visit_code),
                                                 row.visit_date)  # fmt: skip
            elif table in ("subject", "baseline"):
                found[table, record_id] = subjects[getattr(row, "subject_id", row.id)].code
            else:
                found[table, record_id] = _WORDS[table](row, protocol)
    return found


def caption_of(session: Session, table: str, record_id: int) -> str:
    """The caption of one record ("" when its table has none or it does not exist)."""
    return captions(session, [(table, record_id)]).get((table, record_id), "")


def _rows(session: Session, table: str, ids: set[int]) -> dict[int, Any]:
    model = _MODELS[table]
    ordered = sorted(ids)
    rows: dict[int, Any] = {}
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        rows.update((r.id, r) for r in session.scalars(select(model).where(model.id.in_(chunk))))
    return rows
