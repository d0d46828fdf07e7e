"""Importing many new casebooks in one unit of work: built in memory, written in batches.

Each casebook is built by :mod:`pustula.store.transfer.casebook_rows` with the forms' own checks
and derivations; a part of the import at a time, the scores are computed instrument by
instrument, the edit checks run on the rows as they will be saved, and every table is
written in batches (SQLite: one prepared INSERT per batch; PostgreSQL: ``COPY``). The
audit trail gets **one entry per casebook** (action ``casebook``): who imported it, when
and why, and either every value it stored or, when the import keeps its file, where in
the file they come from and their hash, from which :mod:`pustula.store.transfer.replay`
replays them (decision 0007). A record's history starts with its imported values, and the
integrity check replays the entry like the inserts of a form. All or nothing: a refusal
anywhere, or a lock on the study, saves nothing.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, runtime_checkable

import orjson
from sqlalchemy import JSON, Connection, Date, func, select, text

from pustula.errors import DataValidationError, PustulaError
from pustula.protocol import Protocol
from pustula.scoring import get_instrument
from pustula.store.audit.chain import _BOOKKEEPING, CASEBOOK, AuditEntry, append_audit
from pustula.store.audit.sources import PART, ImportSource, in_parts, keep_source
from pustula.store.db.engine import is_sqlite
from pustula.store.db.models import Base, Site, Study, Subject
from pustula.store.db.uow import Store, Transaction
from pustula.store.monitoring.edit_checks import SubjectData, findings_in
from pustula.store.monitoring.on_save import CHECKS, enforce_locks
from pustula.store.records.study import get_study, protocol_of
from pustula.store.records.visits import assessment_columns
from pustula.store.transfer.casebook_rows import Casebook, Pending, Row, build_casebook

__all__ = [
    "PART",
    "TABLE_ORDER",
    "SubjectParts",
    "casebook_entry",
    "finish",
    "import_casebooks",
    "paused_gc",
    "stored_parts",
]  # fmt: skip

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


@runtime_checkable
class SubjectParts(typing.Protocol):
    """Subjects read a part at a time (a file streamed instead of read whole)."""

    def parts(self) -> Iterator[Sequence[Any]]: ...


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a bulk step builds millions of small objects:
    each collection would scan all of them again, for none of them is garbage yet."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_casebooks(
    store: Store,
    user: str,
    subjects: Sequence[Any] | SubjectParts,
    *,
    reason: str,
    source: ImportSource | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Enrol ``subjects`` (:class:`~pustula.store.services.clinical.ImportedSubject`) with every
    record of their casebooks, scored and checked, all or nothing; the number imported.

    Raises
    ------
    DataValidationError
        A value any form would refuse, named with where the source has it.
    LockedError
        The study is locked.
    """
    with paused_gc(), store.transaction(user=user, reason=reason) as tx:
        session = tx.session
        study = get_study(session)
        query = select(Site.code, Site.id).where(Site.study_id == study.id)
        sites: dict[str, int] = {code: site_id for code, site_id in session.execute(query)}
        taken = set(session.scalars(select(Subject.code).where(Subject.study_id == study.id)))
        protocol = protocol_of(study)
        origin = None
        if source is not None:
            at = str(session.info["at"])
            keep_source(session.connection(), source, at=at, user=tx.user)
            origin = _Origin(source.sha256, source.reader, _digest(study.protocol_yaml.encode()))
        # a part at a time: the rows of a million-row file would not fit in memory at once
        count = 0
        for items in _parts_of(subjects):
            books = []
            count += len(items)
            for item in items:
                if item.code in taken:
                    raise DataValidationError(
                        f"{item.where}: subject {item.code} already exists in study {study.code}"
                    )
                books.append(build_casebook(item, protocol, sites))
                taken.add(item.code)
                if progress:
                    progress(item.code)
            _save(tx, store, books, study, protocol, reason=reason, origin=origin)
            del books  # the part's rows are written: let them go before the next is read
        return count


def _parts_of(subjects: Sequence[Any] | SubjectParts) -> Iterator[Sequence[Any]]:
    if isinstance(subjects, SubjectParts):
        yield from subjects.parts()
    else:
        yield from in_parts(subjects, PART)


@dataclass(frozen=True)
class _Origin:
    """The kept file an import read, its reader, and the protocol it was checked against."""

    source: str
    reader: str
    protocol: str


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _save(tx: Transaction, store: Store, books: Sequence[Casebook], study: Study,
          protocol: Protocol, *, reason: str, origin: _Origin | None) -> None:  # fmt: skip
    """Score, number, check and write these casebooks, with their audit entries."""
    connection = tx.session.connection()
    at, user = str(tx.session.info["at"]), tx.user
    finish(books, protocol, study.id, at, lambda t, n: _reserve_ids(connection, t, n))
    entries = _write(connection, books, at=at, user=user, origin=origin)
    new = {("subject", b.subject["id"], None) for b in books}
    append_audit(
        connection, entries, user=user, at=at, reason=reason,
        key=store.audit_key, with_head_locked=lambda c: enforce_locks(c, new),
    )  # fmt: skip


def finish(
    books: Sequence[Casebook], protocol: Protocol, study_id: int, at: str,
    ids_for: Callable[[str, int], list[int]],
) -> None:  # fmt: skip
    """Scores, database ids (from ``ids_for(table, n)``) and automatic queries: what an
    import adds to the casebooks the forms' checks built, and what a replay adds again.

    Examples
    --------
    >>> from pustula.interop.redcap_records import export_records, parse_records
    >>> from pustula.store.services.clinical import casebooks, study_protocol
    >>> from pustula.store.transfer.casebook_rows import build_casebook
    >>> store = demo_store()
    >>> protocol = study_protocol(store)
    >>> item = parse_records(export_records(casebooks(store), protocol), protocol)[0]
    >>> book = build_casebook(item, protocol, {"SITE1": 1})
    >>> ids = iter(range(100, 1000))
    >>> finish([book], protocol, 1, "2026-12-04T10:00:00",
    ...        lambda table, n: [next(ids) for _ in range(n)])
    >>> part = stored_parts([book])[0]
    >>> list(part)[:4]
    ['subject', 'baseline', 'prior_therapy', 'eligibility_result']
    >>> first = dict(zip(part["assessment"]["columns"], part["assessment"]["rows"][0]))
    >>> first["instrument"], first["total"], first["id"] >= 100
    ('pppasi', 26.1, True)
    """
    _score(books)
    _give_ids(books, TABLE_ORDER[:-2], study_id, ids_for)
    _raise_queries(books, protocol, at)
    _give_ids(books, TABLE_ORDER[-2:], study_id, ids_for)


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
    books: Sequence[Casebook], tables: Sequence[str], study_id: int,
    ids_for: Callable[[str, int], list[int]],
) -> None:  # fmt: skip
    """Database ids for the rows of ``tables``, in the order the forms would have saved
    them, and their references to the subject or to their parent row."""
    for table in tables:
        rows = [row for book in books for row in book.rows.get(table, [])]
        for row, new_id in zip(rows, ids_for(table, len(rows)), strict=True):
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
                           live("adverse_event"), live("exposure"),
                           live("exposure_interruption"))  # fmt: skip
        found = {f.key: f for f in findings_in(data, protocol)}
        for finding in found.values():
            query = book.add("data_query", {
                "table_name": finding.table_name, "record_id": finding.record_id,
                "field": finding.field, "kind": "auto", "rule": finding.rule, "state": "open",
                "text": finding.text, "opened_at": at, "closed_at": None,
            })  # fmt: skip
            book.add("query_message", {"action": "raise", "text": finding.text, "at": at,
                                       "by": CHECKS, "change_at": None}, parent=query)  # fmt: skip


@dataclass(frozen=True)
class _Layout:
    """A table's columns in stored order: those the audit trail keeps, then bookkeeping;
    with how each audited value is stored (dates as ISO text, JSON as its text)."""

    name: str
    audited: tuple[str, ...]
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]
    json_columns: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.audited, *_STAMPED)

    def stored(self, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
        values = itemgetter(*self.audited)  # a Row gives None for a column it lacks
        out = []
        for row in rows:
            cells = list(values(row))
            for i, convert in self.converted:
                cells[i] = convert(cells[i])
            out.append(tuple(cells))
        return out


_STAMPED = ("version", "created_at", "created_by", "updated_at", "updated_by")


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _json_text(value: Any) -> Any:
    """A JSON column's text (compact; SQLAlchemy's JSON type reads it back the same)."""
    return None if value is None else orjson.dumps(value).decode()


#: Columns an import never sets: who answered an assessment, and whether it is used, are
#: Pustula's own (the database's defaults: entered by the site, used). Leaving them out keeps
#: the stored parts, and so the hashes of imports made before they existed, unchanged.
_NOT_IMPORTED = frozenset({"source", "answered_at", "device", "not_used_reason"})


def _layout(table: str) -> _Layout:
    model = Base.metadata.tables[table]
    audited = tuple(c.name for c in model.columns
                    if c.name not in _BOOKKEEPING and c.name not in _NOT_IMPORTED)  # fmt: skip
    kinds = {c.name: c.type for c in model.columns}
    converted = tuple(
        (i, _iso if isinstance(kinds[n], Date) else _json_text)
        for i, n in enumerate(audited)
        if isinstance(kinds[n], (Date, JSON))
    )
    json_columns = tuple(n for n in audited if isinstance(kinds[n], JSON))
    return _Layout(table, audited, converted, json_columns)


def stored_parts(books: Sequence[Casebook]) -> list[dict[str, Any]]:
    """Each casebook's rows as the database stores them, by table (parents first): the
    columns, which hold JSON, and the rows' values. A casebook's audit entry holds this
    (or its hash, when the import kept its file)."""
    parts: list[dict[str, Any]] = [{} for _ in books]
    for table, layout in _layouts().items():
        for book, part in zip(books, parts, strict=True):
            rows = layout.stored(book.rows.get(table, []))
            if rows:
                part[table] = {"columns": layout.audited, "json": layout.json_columns,
                               "rows": rows}  # fmt: skip
    return parts


def casebook_entry(book: Casebook, part: Mapping[str, Any], origin: _Origin | None) -> str:
    """The audit entry's value of one imported casebook: all its values, or, when the import
    kept its file, where they come from and their hash (decision 0007)."""
    if origin is None:
        return orjson.dumps(part).decode()
    ids = {table: _ranges([row["id"] for row in rows]) for table, rows in book.rows.items() if rows}
    return orjson.dumps({
        "source": origin.source, "reader": origin.reader, "protocol": origin.protocol,
        "code": book.subject["code"], "lines": book.lines or None,
        "bytes": book.spans or None,
        "study": book.subject["study_id"], "ids": ids,
        "values": _digest(orjson.dumps(part)),
    }).decode()  # fmt: skip


def _ranges(ids: Sequence[int]) -> list[list[int]]:
    """Ids as [first, count] runs: ids reserved together are consecutive."""
    runs: list[list[int]] = []
    for i in ids:
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1][1] += 1
        else:
            runs.append([i, 1])
    return runs


def _write(
    connection: Connection, books: Sequence[Casebook], *, at: str, user: str,
    origin: _Origin | None,
) -> list[AuditEntry]:  # fmt: skip
    """Every table's rows, parents first, in batches; the audit entry of each casebook.

    Each row is converted once to the values the database stores; SQLite takes those
    directly, and each casebook's audit entry holds them (or their hash) too.
    """
    parts = stored_parts(books)
    stamp = (1, at, user, None, None)
    sqlite = is_sqlite(connection.engine)
    for table, layout in _layouts().items():
        held = (part[table]["rows"] for part in parts if table in part)
        stored = [(*row, *stamp) for rows in held for row in rows]
        if sqlite:
            _insert_stored(connection, layout, stored)
        else:
            _copy_stored(connection, layout, stored)
    return [
        AuditEntry(CASEBOOK, "subject", book.subject["id"], None, None,
                   casebook_entry(book, part, origin))
        for book, part in zip(books, parts, strict=True)
    ]  # fmt: skip


@functools.cache
def _layouts() -> dict[str, _Layout]:
    return {table: _layout(table) for table in TABLE_ORDER}


def _copy_stored(connection: Connection, layout: _Layout, rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: rows in stored form (dates and JSON as text) through ``COPY``, in the
    import's transaction, its fastest way in."""
    if not rows:
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(n) for n in layout.columns)
    statement = f"COPY {quote(layout.name)} ({names}) FROM STDIN"
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


def _insert_stored(connection: Connection, layout: _Layout, rows: list[tuple[Any, ...]]) -> None:
    """SQLite: rows already in stored form, one prepared INSERT for them all."""
    if not rows:
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(n) for n in layout.columns)
    marks = ", ".join("?" for _ in layout.columns)
    statement = f"INSERT INTO {quote(layout.name)} ({names}) VALUES ({marks})"
    for start in range(0, len(rows), _BATCH):
        connection.exec_driver_sql(statement, rows[start : start + _BATCH])
