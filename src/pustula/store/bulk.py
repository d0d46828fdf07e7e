"""Importing many new casebooks in one unit of work: built in memory, written in batches.

Each casebook is built by :mod:`pustula.store.casebook_rows` with the forms' own checks
and derivations; the scores are computed instrument by instrument over the whole import;
the edit checks run on the rows as they will be saved; then every table is written with
one multi-row INSERT per batch. The audit trail gets **one entry per casebook**: who
imported it, when and why, with every record it created and all their values (action
``casebook``), so a record's history starts with its imported values, and the integrity
check replays it like the inserts of a form. All or nothing: a refusal anywhere, or a
lock on the study, saves nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from pustula.errors import DataValidationError, PustulaError
from pustula.protocol import Protocol
from pustula.scoring import get_instrument
from pustula.store.audit import _BOOKKEEPING, CASEBOOK, AuditEntry, _json_default, append_audit
from pustula.store.casebook_rows import Casebook, Pending, build_casebook
from pustula.store.database import is_sqlite
from pustula.store.edit_checks import SubjectData, findings_in
from pustula.store.models import Base, Site, Subject
from pustula.store.monitoring import CHECKS, enforce_locks
from pustula.store.study import get_study, protocol_of
from pustula.store.uow import Store
from pustula.store.visits import assessment_columns

__all__ = ["TABLE_ORDER", "import_casebooks"]

#: Tables in the order their rows can be inserted (parents first).
TABLE_ORDER = (
    "subject", "baseline", "prior_therapy", "eligibility_result", "exposure",
    "exposure_interruption", "visit", "assessment", "lab", "adverse_event", "con_med",
    "data_query", "query_message",
)  # fmt: skip
#: The column that points at the parent row, for rows whose parent is not the subject.
_PARENT = {"exposure_interruption": "exposure_id", "assessment": "visit_id",
           "query_message": "query_id"}  # fmt: skip
_BATCH = 20_000


def import_casebooks(
    store: Store,
    user: str,
    subjects: Sequence[Any],
    *,
    reason: str,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Enrol ``subjects`` (:class:`~pustula.store.services.ImportedSubject`) with every
    record of their casebooks, scored and checked, all or nothing; the number imported.

    Raises
    ------
    DataValidationError
        A value any form would refuse, named with where the source has it.
    LockedError
        The study is locked.
    """
    with store.transaction(user=user, reason=reason) as tx:
        session = tx.session
        study = get_study(session)
        protocol = protocol_of(study)
        query = select(Site.code, Site.id).where(Site.study_id == study.id)
        sites: dict[str, int] = {code: site_id for code, site_id in session.execute(query)}
        taken = set(session.scalars(select(Subject.code).where(Subject.study_id == study.id)))
        books = []
        for item in subjects:
            if item.code in taken:
                raise DataValidationError(
                    f"{item.where}: subject {item.code} already exists in study {study.code}"
                )
            books.append(build_casebook(item, protocol, sites))
            taken.add(item.code)
            if progress:
                progress(item.code)
        _score(books)
        connection = session.connection()
        at = str(session.info["at"])
        _give_ids(connection, books, TABLE_ORDER[:-2], study.id)
        _raise_queries(books, protocol, at)
        _give_ids(connection, books, TABLE_ORDER[-2:], study.id)
        _write(connection, books, at=at, user=user)
        new = {("subject", b.subject["id"], None) for b in books}
        append_audit(
            connection, (_entry(b) for b in books), user=user, at=at, reason=reason,
            key=store.audit_key, with_head_locked=lambda c: enforce_locks(c, new),
        )  # fmt: skip
        return len(books)


def _score(books: Iterable[Casebook]) -> None:
    """Score every pending assessment, instrument by instrument; a refusal names its visit."""
    by_instrument: dict[str, list[Pending]] = {}
    for book in books:
        for pending in book.scores:
            by_instrument.setdefault(pending.row["instrument"], []).append(pending)
    for name, pendings in by_instrument.items():
        results = get_instrument(name).score_many([p.items for p in pendings])
        for pending, result in zip(pendings, results, strict=True):
            if isinstance(result, PustulaError):
                raise DataValidationError(f"{pending.where}: {result.message}") from result
            pending.row.update(assessment_columns(result, pending.items))


def _reserve_ids(connection: Connection, table: str, n: int) -> list[int]:
    """``n`` new ids of ``table``: after the largest on SQLite (its writer holds the database),
    from the table's sequence on PostgreSQL (other writers may be taking ids meanwhile)."""
    if n == 0:
        return []
    if is_sqlite(connection.engine):
        model = Base.metadata.tables[table]
        last = connection.scalar(select(func.max(model.c.id))) or 0
        return list(range(last + 1, last + 1 + n))
    query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
    return [int(r[0]) for r in connection.execute(query, {"table": table, "n": n})]


def _give_ids(
    connection: Connection, books: Sequence[Casebook], tables: Sequence[str], study_id: int
) -> None:
    """Database ids for the rows of ``tables``, in the order the forms would have saved
    them, and their references to the subject or to their parent row."""
    for table in tables:
        rows = [row for book in books for row in book.rows.get(table, [])]
        for row, new_id in zip(rows, _reserve_ids(connection, table, len(rows)), strict=True):
            row["id"] = new_id
    for book in books:
        for table in tables:
            for row in book.rows.get(table, []):
                if table == "subject":
                    row["study_id"] = study_id
                elif table in _PARENT:
                    row[_PARENT[table]] = book.links[id(row)]["id"]
                else:
                    row["subject_id"] = book.subject["id"]


def _raise_queries(books: Sequence[Casebook], protocol: Protocol, at: str) -> None:
    """The automatic queries the edit checks open on the imported records, each with the
    first message of its thread (as a save of the same records opens them)."""
    for book in books:
        live = book.live
        data = SubjectData(book.subject, live("visit"), live("assessment"), live("lab"),
                           live("adverse_event"), live("exposure"))  # fmt: skip
        found = {f.key: f for f in findings_in(data, protocol)}
        for finding in found.values():
            query = book.add("data_query", {
                "table_name": finding.table_name, "record_id": finding.record_id,
                "field": finding.field, "kind": "auto", "rule": finding.rule, "state": "open",
                "text": finding.text, "opened_at": at, "closed_at": None,
            })  # fmt: skip
            book.add("query_message", {"action": "raise", "text": finding.text, "at": at,
                                       "by": CHECKS, "change_at": None}, parent=query)  # fmt: skip


def _write(connection: Connection, books: Sequence[Casebook], *, at: str, user: str) -> None:
    """Every table's rows, parents first, in multi-row INSERTs of at most ``_BATCH`` rows."""
    stamp = {"version": 1, "created_at": at, "created_by": user, "updated_at": None,
             "updated_by": None, "deleted_at": None}  # fmt: skip
    for table in TABLE_ORDER:
        model = Base.metadata.tables[table]
        names = [c.name for c in model.columns]
        rows = [row for book in books for row in book.rows.get(table, [])]
        for row in rows:
            row.update(stamp)
        full = [{name: row.get(name) for name in names} for row in rows]
        for start in range(0, len(full), _BATCH):
            connection.execute(insert(model), full[start : start + _BATCH])


def _entry(book: Casebook) -> AuditEntry:
    """The casebook's audit entry: every record it created, table by table, with the
    values the audit trail keeps of an insert."""
    tables: dict[str, Any] = {}
    for table in TABLE_ORDER:
        rows = book.rows.get(table)
        if not rows:
            continue
        names = [c.name for c in Base.metadata.tables[table].columns if c.name not in _BOOKKEEPING]
        tables[table] = {"columns": names, "rows": [[row.get(n) for n in names] for row in rows]}
    text_ = json.dumps(tables, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    return AuditEntry(CASEBOOK, "subject", book.subject["id"], None, None, text_)
