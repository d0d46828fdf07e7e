"""The audit trail: one row per inserted record and per changed field, in a hash chain.

Audit rows are written inside the same flush, on the same connection, as the change they
describe, so both commit together or not at all. Each row's hash covers its content and
the previous row's hash; the single ``audit_head`` row is locked while appending, which
gives the chain one order even with concurrent writers on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, event, insert, inspect, select, update
from sqlalchemy.orm import Session, UOWTransaction, aliased

from pustula.checks.values import has_visible_text
from pustula.errors import AuditError, ConfigurationError, ReasonRequiredError, StoreError
from pustula.store.audit.sources import kept_bytes, load_sources
from pustula.store.db.hooks import REPLAYS, SAVE_HOOKS, now_iso
from pustula.store.db.models import (
    AuditHead,
    AuditLog,
    Base,
    Record,
    Site,
    Study,
)
from pustula.store.db.models import (
    ImportSource as SourceRow,
)
from pustula.store.db.uow import AuditedSession
from pustula.store.keys.audit_key import AuditKey

__all__ = [
    "CASEBOOK",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditReport",
    "append_audit",
    "audit_history",
    "audit_value",
    "casebook_counts",
    "casebook_records",
    "check_key",
    "now_iso",
    "part_records",
    "resign",
    "verify_audit",
    "verify_chain",
    "write_pending",
]

GENESIS_HASH = "0" * 64
#: The action of an imported casebook's one entry (:mod:`pustula.store.transfer.bulk`): its
#: ``new_value`` holds every record the import created, table by table.
CASEBOOK = "casebook"
PENDING = "pustula_pending_audit"
_BOOKKEEPING = frozenset({"version", "created_at", "created_by", "updated_at", "updated_by"})


def audit_value(value: Any) -> str | None:
    """A value as the audit trail stores it: JSON text, dates in ISO 8601."""
    if value is None:
        return None
    return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


@dataclass(frozen=True)
class AuditEntry:
    action: str
    table_name: str
    record_id: int | None
    field: str | None
    old_value: str | None
    new_value: str | None


def _canonical(row: Sequence[Any]) -> bytes:
    return json.dumps(list(row), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _digest(row: Sequence[Any], key: AuditKey | None) -> str:
    """HMAC-SHA256 of the row with the audit key; plain SHA-256 only for legacy chains."""
    if key is None:
        return hashlib.sha256(_canonical(row)).hexdigest()
    return key.sign(_canonical(row))


def _chain_row(entry_id: int, at: str, user: str, reason: str | None, e: AuditEntry) -> list[Any]:
    return [
        entry_id, at, user, e.action, e.table_name, e.record_id,
        e.field, e.old_value, e.new_value, reason,
    ]  # fmt: skip


# built once: a save appends to the chain, and building a statement costs more than running it
_LOCK_HEAD = (
    select(AuditHead.last_id, AuditHead.last_hash, AuditHead.key_id)
    .where(AuditHead.id == 1)
    .with_for_update()
)
_MOVE_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(
        last_id=bindparam("new_last_id"),
        last_hash=bindparam("new_last_hash"),
        key_id=bindparam("new_key_id"),
    )
)


def check_key(key_id: str | None, key: AuditKey, *, entries: int) -> None:
    """Refuse a key other than the one the chain was signed with."""
    if key_id is None and entries == 0:
        return
    if key_id != key.key_id:
        raise ConfigurationError(
            f"this database's audit trail is signed with key {key_id or '(none: legacy)'}, "
            f"but the audit key configured ({key.source}) is {key.key_id}; set "
            "PUSTULA_AUDIT_KEY or PUSTULA_AUDIT_KEY_FILE to the database's own key"
        )


def append_audit(
    connection: Connection,
    entries: Iterable[AuditEntry],
    *,
    user: str,
    at: str,
    reason: str | None,
    key: AuditKey,
    with_head_locked: Callable[[Connection], None] | None = None,
) -> int:
    """Append entries to the chain on ``connection`` (inside the caller's transaction).

    ``with_head_locked`` runs once the chain's head is locked, when commits are ordered.
    """
    entries = list(entries)
    if not entries:
        return 0
    head = connection.execute(_LOCK_HEAD).one()
    if with_head_locked is not None:
        with_head_locked(connection)
    check_key(head.key_id, key, entries=head.last_id)
    last_id, prev = head.last_id, head.last_hash
    rows = []
    for entry in entries:
        last_id += 1
        content = _chain_row(last_id, at, user, reason, entry)
        digest = _digest([*content, prev], key)
        rows.append(
            {
                "id": last_id, "at": at, "user": user, "action": entry.action,
                "table_name": entry.table_name, "record_id": entry.record_id,
                "field": entry.field, "old_value": entry.old_value,
                "new_value": entry.new_value, "reason": reason,
                "prev_hash": prev, "hash": digest,
            }
        )  # fmt: skip
        prev = digest
    connection.execute(insert(AuditLog), rows)
    connection.execute(
        _MOVE_HEAD, {"new_last_id": last_id, "new_last_hash": prev, "new_key_id": key.key_id}
    )
    return len(rows)


@dataclass(frozen=True)
class AuditReport:
    """Result of checking the chain (and, from :func:`verify_store`, the tables against it).

    ``problems`` is empty when everything verifies.

    Examples
    --------
    >>> from pustula.store import verify_store
    >>> report = verify_store(demo_store())
    >>> report.problems, report.entries > 0
    ((), True)
    """

    entries: int
    last_hash: str
    problems: tuple[str, ...] = ()
    key_id: str | None = None
    #: The id of the first audit row that does not fit, when the chain is broken.
    row: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str | None:
        return self.problems[0] if self.problems else None


def verify_chain(
    rows: Iterable[Any],
    key: AuditKey | None,
    *,
    head: tuple[int, str] | None,
    links_only: bool = False,
) -> AuditReport:
    """Recompute the chain from the first row; report the first row that does not fit.

    ``rows`` are audit rows in id order (objects with the columns as attributes); ``head``
    is the head's (last id, last hash), or None when unknown. ``links_only`` checks ids and
    the links between rows but not the signatures (a bundle signed with another key).
    """
    prev, expected_id, count = GENESIS_HASH, 1, 0
    for row in rows:
        problem = None
        if row.id != expected_id:
            problem = f"audit row {expected_id} is missing (found {row.id})"
        elif row.prev_hash != prev:
            problem = f"audit row {row.id}: link to the previous row broken"
        elif not links_only:
            content = _chain_row(row.id, row.at, row.user, row.reason, _entry_of(row))
            if _digest([*content, prev], key) != row.hash:
                problem = f"audit row {row.id} was altered after it was written"
        if problem is not None:
            return AuditReport(count, prev, (problem,), row=min(row.id, expected_id))
        prev, expected_id, count = row.hash, expected_id + 1, count + 1
    if head is not None and (head[0] != count or head[1] != prev):
        return AuditReport(count, prev, ("audit rows after the last one verified were removed",))
    return AuditReport(count, prev)


def verify_audit(connection: Connection, key: AuditKey) -> AuditReport:
    """Check the hash chain with the audit key, and the key against the database's.

    Examples
    --------
    >>> store = demo_store()
    >>> with store.read_connection() as connection:
    ...     report = verify_audit(connection, store.audit_key)
    >>> report.problems
    ()
    """
    head = connection.execute(select(AuditHead).where(AuditHead.id == 1)).one_or_none()
    if head is None:
        return AuditReport(0, GENESIS_HASH, ("the audit head row is missing",))
    try:
        check_key(head.key_id, key, entries=head.last_id)
    except ConfigurationError as exc:
        return AuditReport(0, GENESIS_HASH, (exc.message,), head.key_id)
    rows = connection.execute(select(AuditLog).order_by(AuditLog.id)).yield_per(5000)
    report = verify_chain(rows, key, head=(head.last_id, head.last_hash))
    return dataclasses.replace(report, key_id=head.key_id)


def resign(rows: list[dict[str, Any]], key: AuditKey) -> str:
    """Sign audit rows (dicts, in id order) again with ``key``; return the new last hash."""
    prev = GENESIS_HASH
    for row in rows:
        entry = AuditEntry(row["action"], row["table_name"], row["record_id"], row["field"],
                           row["old_value"], row["new_value"])  # fmt: skip
        content = _chain_row(row["id"], row["at"], row["user"], row["reason"], entry)
        row["prev_hash"], row["hash"] = prev, _digest([*content, prev], key)
        prev = row["hash"]
    return prev


def _entry_of(row: Any) -> AuditEntry:
    return AuditEntry(
        row.action, row.table_name, row.record_id, row.field, row.old_value, row.new_value
    )


# --- session events ----------------------------------------------------------------------


def before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    """Stamp who and when; refuse hard deletes and unexplained changes."""
    info = session.info
    if "user" not in info:
        raise StoreError("this session is read-only; save through Store.transaction()")
    for obj in session.deleted:
        if isinstance(obj, Record):
            raise StoreError(f"{obj.label}: records are never deleted; remove them with a reason")
    for obj in session.new:
        if isinstance(obj, Record):
            obj.created_at, obj.created_by = info["at"], info["user"]
    for obj in session.dirty:
        if isinstance(obj, Record) and session.is_modified(obj, include_collections=False):
            if obj.changes_need_reason and not has_visible_text(info.get("reason")):
                raise ReasonRequiredError(
                    f"changing or removing saved data ({obj.label}) needs a reason in words"
                )
            obj.updated_at, obj.updated_by = info["at"], info["user"]


def after_flush(session: Session, _context: UOWTransaction) -> None:
    """Collect the audit rows for what this flush changed; :func:`write_pending` writes them."""
    key: AuditKey = session.info["audit_key"]
    session.info.setdefault(PENDING, []).extend(
        [*_inserts(session.new, key), *_updates(session.dirty, key)]
    )


def secret_digest(key: AuditKey, value: Any, *, salt: str = "") -> str | None:
    """What the trail keeps of a secret column (a password hash, a token hash): a keyed
    digest. It shows nothing of the secret, yet a value changed behind the trail's back
    (one user's password hash copied onto another's account) no longer matches it, and
    ``audit verify`` says so.

    A concealed column with few values (an arm) is salted with its row and column
    (:func:`digest_salt`): otherwise equal digests would group the rows by arm."""
    if value is None:
        return None
    salted = salt.encode("utf-8") + b"\0" if salt else b""
    return "hmac:" + key.sign(b"pustula secret column\0" + salted + str(value).encode("utf-8"))[:32]


def digest_salt(table: str, record_id: Any, column: str, salted: bool) -> str:
    """The salt of a concealed column's digest: its table, row and column (or none)."""
    return f"{table}:{record_id}:{column}" if salted else ""


def lock_chain_head(session: Session) -> None:
    """Hold the chain's head until the transaction ends: no other save can commit meanwhile."""
    session.execute(_LOCK_HEAD)


def write_pending(
    session: Session, *, with_head_locked: Callable[[Connection], None] | None = None
) -> int:
    """Append the collected rows to the chain, in the caller's transaction, just before commit.

    Appending once per transaction, at its end, keeps the chain's head locked only for the
    last moment of a save, so concurrent writers on PostgreSQL wait for each other briefly.
    """
    entries = session.info.pop(PENDING, [])
    info = session.info
    return append_audit(
        session.connection(), entries, user=info["user"], at=info["at"],
        reason=info.get("reason"), key=info["audit_key"], with_head_locked=with_head_locked,
    )  # fmt: skip


def before_commit(session: Session) -> None:
    """Refuse a commit that would leave collected audit rows unwritten."""
    if session.info.get(PENDING):
        raise AuditError("a save tried to commit without writing its audit rows")


def _audited_keys(obj: Record) -> list[str]:
    return [a.key for a in inspect(obj).mapper.column_attrs if a.key not in _BOOKKEEPING]


def _inserts(objects: Iterable[object], key: AuditKey) -> Iterable[AuditEntry]:
    for obj in objects:
        if isinstance(obj, Record):
            values = {
                k: (secret_digest(key, getattr(obj, k), salt=digest_salt(
                    obj.__tablename__, obj.id, k, obj.audit_salted))
                    if k in obj.audit_redacted else getattr(obj, k))
                for k in _audited_keys(obj)
            }  # fmt: skip
            yield AuditEntry("insert", obj.__tablename__, obj.id, None, None, audit_value(values))


def _updates(objects: Iterable[object], key: AuditKey) -> Iterable[AuditEntry]:
    for obj in objects:
        if not isinstance(obj, Record):
            continue
        state = inspect(obj)
        for name in _audited_keys(obj):
            history = state.attrs[name].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old == new:
                continue
            if name in obj.audit_redacted:
                salt = digest_salt(obj.__tablename__, obj.id, name, obj.audit_salted)
                old, new = secret_digest(key, old, salt=salt), secret_digest(key, new, salt=salt)
            action = "remove" if name == "deleted_at" and new is not None else "update"
            yield AuditEntry(
                action, obj.__tablename__, obj.id, name, audit_value(old), audit_value(new)
            )


def audit_history(
    connection: Connection,
    *,
    table: str | None = None,
    record: int | None = None,
    last: int | None = None,
) -> list[dict[str, Any]]:
    """Who changed what, when, from what to what, and why; oldest first.

    ``last`` keeps only the newest entries, read from the end of the log by its index.

    Examples
    --------
    >>> store = demo_store()
    >>> with store.read_connection() as connection:
    ...     changes = audit_history(connection, table="subject", record=1)
    >>> changes[0]["action"], changes[0]["user"]
    ('insert', 'demo')
    """
    query = select(AuditLog)
    if table is not None:
        query = query.where(AuditLog.table_name == table)
    if record is not None:
        query = query.where(AuditLog.record_id == record)
    if last is not None:
        newest = query.order_by(AuditLog.id.desc()).limit(last).subquery()
        query = select(aliased(AuditLog, newest))
    query = query.order_by(query.selected_columns.id)
    rows = [history_row(r) for r in connection.execute(query)]
    if table is None:
        return rows
    return _imported(connection, rows, table, record)


def _imported(
    connection: Connection, rows: list[dict[str, Any]], table: str, record: int | None
) -> list[dict[str, Any]]:
    """The history with imported casebooks read as the inserts of their records: a
    record imported with its casebook starts with its imported values."""
    found = [r for r in rows if r["action"] != CASEBOOK]
    found += [
        x
        for r in rows
        if r["action"] == CASEBOOK
        for x in _as_inserts(connection, r, table, record)
    ]
    subject = _subject_of(connection, table, record) if table != "subject" else None
    if subject is not None:
        books = select(AuditLog).where(
            AuditLog.table_name == "subject", AuditLog.record_id == subject,
            AuditLog.action == CASEBOOK,
        )  # fmt: skip
        for r in connection.execute(books):
            found += _as_inserts(connection, history_row(r), table, record)
    return sorted(found, key=lambda r: r["id"])


def _subject_of(connection: Connection, table: str, record: int | None) -> int | None:
    """The subject a record belongs to, when it is a subject's record."""
    if record is None or table not in Base.metadata.tables:
        return None
    model = Base.metadata.tables[table]
    parent = {"assessment": ("visit", "visit_id"), "query_message": ("data_query", "query_id"),
              "exposure_interruption": ("exposure", "exposure_id")}.get(table)  # fmt: skip
    if parent is not None:
        owner = Base.metadata.tables[parent[0]]
        query = select(owner.c.subject_id).join(model, model.c[parent[1]] == owner.c.id)
        return connection.scalar(query.where(model.c.id == record))
    if "subject_id" not in model.c:
        return None
    return connection.scalar(select(model.c.subject_id).where(model.c.id == record))


def history_row(r: Any) -> dict[str, Any]:
    """An audit row as history pages and exports read it (``r``: a row or an AuditLog)."""
    return {"id": r.id, "at": r.at, "user": r.user, "action": r.action, "table": r.table_name,
            "record": r.record_id, "field": r.field, "old": r.old_value, "new": r.new_value,
            "reason": r.reason}  # fmt: skip


def casebook_records(new_value: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, values) of each record an imported casebook's entry holds, in saving order
    (none when the import kept its file: the entry holds only their hash, decision 0007)."""
    entry: Mapping[str, Any] = json.loads(new_value) if new_value else {}
    if "source" in entry:
        return iter(())
    return iter(part_records(entry))


def part_records(tables: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(table, values) of each record of a casebook's stored rows, by table, in saving order.

    Examples
    --------
    >>> part_records({"visit": {"columns": ["id", "items"], "json": ["items"],
    ...                         "rows": [[7, '{"pga": 2}']]}})
    [('visit', {'id': 7, 'items': {'pga': 2}})]
    """
    found = []
    for table, part in tables.items():
        for stored in part["rows"]:
            values = dict(zip(part["columns"], stored, strict=True))
            for name in part.get("json", ()):  # JSON columns are held as their text
                if values[name] is not None:
                    values[name] = json.loads(values[name])
            found.append((table, values))
    return found


def casebook_counts(new_value: str | None) -> dict[str, int]:
    """How many records of each table an imported casebook's entry brought in.

    Examples
    --------
    >>> casebook_counts('{"visit": {"columns": ["id"], "rows": [[1], [2]]}}')
    {'visit': 2}
    >>> casebook_counts('{"source": "ab", "ids": {"visit": [[5, 3]], "lab": [[9, 1]]}}')
    {'visit': 3, 'lab': 1}
    """
    entry: Mapping[str, Any] = json.loads(new_value) if new_value else {}
    if "source" in entry:
        return {table: sum(n for _, n in runs) for table, runs in entry["ids"].items()}
    return {table: len(part["rows"]) for table, part in entry.items()}


def _as_inserts(
    connection: Connection, row: Mapping[str, Any], table: str, record: int | None
) -> list[dict[str, Any]]:
    """A casebook entry (as :func:`history_row` gives it) read as the insert entries of its
    records (only of ``table`` and ``record`` when given), as a record's history shows them.
    An entry that holds only its values' hash is replayed from the kept file."""
    entry: Mapping[str, Any] = json.loads(row["new"]) if row["new"] else {}
    records = _replayed(connection, row, entry) if "source" in entry else part_records(entry)
    return [
        {**row, "action": "insert", "table": name, "record": values["id"], "field": None,
         "old": None, "new": audit_value(values)}
        for name, values in records
        if name == table and (record is None or values["id"] == record)
    ]  # fmt: skip


def _replayed(
    connection: Connection, row: Mapping[str, Any], entry: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """One imported casebook's records, replayed from its kept file with the study's
    protocol and sites as they are now (none if they changed since: the entry then shows
    as the casebook's import, without the values)."""
    study = connection.execute(select(Study.code, Study.protocol_yaml).where(
        Study.id == entry["study"])).one_or_none()  # fmt: skip
    if study is None:
        return []
    sites = connection.execute(select(Site.id, Site.code).where(Site.study_id == entry["study"]))
    state: dict[tuple[str, int], dict[str, Any]] = {
        ("study", entry["study"]): {"code": study.code, "protocol_yaml": study.protocol_yaml},
        **{("site", s.id): {"code": s.code, "study_id": entry["study"]} for s in sites},
    }
    if entry.get("bytes"):  # only its rows of the file: a large file is not read whole
        kept = SourceRow.__table__.c
        query = select(kept.name, kept.reader, kept.options).where(kept.sha256 == entry["source"])
        source = connection.execute(query).one_or_none()
        if source is None:
            return []
        try:
            content = kept_bytes(connection, entry["source"], entry["bytes"])
        except AuditError:
            return []
        replay = REPLAYS["casebook"].from_bytes(source._mapping, content)
    else:
        replay = REPLAYS["casebook"].for_one(*load_sources(connection, entry["source"]))
    records, problems = replay.records(
        {"id": row["id"], "at": row["at"], "user": row["user"], "new_value": row["new"]}, state
    )
    return [] if problems else list(records)


def _record(session: Session, under_head_lock: Callable[[Connection], None]) -> None:
    write_pending(session, with_head_locked=under_head_lock)


event.listen(AuditedSession, "before_flush", before_flush)
event.listen(AuditedSession, "after_flush", after_flush)
event.listen(AuditedSession, "before_commit", before_commit)
SAVE_HOOKS.recorder = _record
