"""Integrity you can prove: the tables replayed from the audit trail, and an anchor.

The hash chain (:mod:`pustula.store.audit.chain`) proves the audit trail was not changed. This
module proves the *data* were not changed behind its back: replaying every insert, update
and removal of the trail gives each record's last audited state, and every live row must
equal it; every row must have its insert, and every audited record must still exist.
``UPDATE assessment SET total = 0`` or ``DELETE FROM adverse_event`` made directly in the
database fails this, whoever made it.

An anchor is the chain's head (last id and hash) written to a file kept elsewhere. The
chain must still hold that row with that hash, so a log rewritten or truncated by someone
who holds the database *and* the key is found too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from pustula.errors import AuditError
from pustula.store.audit.chain import (
    _BOOKKEEPING,
    CASEBOOK,
    AuditReport,
    audit_value,
    digest_salt,
    secret_digest,
    verify_audit,
)
from pustula.store.audit.sources import load_sources
from pustula.store.db.hooks import REPLAYS
from pustula.store.db.models import AuditLog, Base, Photograph, Record
from pustula.store.db.uow import Store
from pustula.store.keys.audit_key import AuditKey

__all__ = [
    "MAX_LISTED",
    "AuditedTable",
    "audited_tables",
    "read_anchor",
    "reconcile",
    "verify_store",
    "write_anchor",
]

#: Problems listed by name; more are counted.
MAX_LISTED = 20
#: Accounts never travel in a bundle, so an import ends what the trail knows of them.
NOT_IMPORTED = frozenset({"app_user"})


@dataclass(frozen=True)
class AuditedTable:
    name: str
    columns: tuple[str, ...]
    redacted: frozenset[str]
    #: concealed columns' digests are salted with their row (see ``digest_salt``)
    salted: bool = False


def audited_tables() -> dict[str, AuditedTable]:
    """Every table of audited records, with the columns the audit trail holds."""
    tables = {}
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if not issubclass(model, Record):
            continue
        columns = tuple(a.key for a in mapper.column_attrs if a.key not in _BOOKKEEPING)
        tables[model.__tablename__] = AuditedTable(
            model.__tablename__, columns, frozenset(model.audit_redacted), model.audit_salted
        )
    return tables


def _normal(value: Any) -> Any:
    """A value as the audit trail would hold it, parsed back, so both sides compare alike.

    Text, numbers and booleans come back from JSON as they went in; only dates and
    containers need the round trip (it was most of the check's time on a large study)."""
    if value is None or type(value) in _SAME_IN_JSON:
        return value
    text = audit_value(value)
    return None if text is None else json.loads(text)


_SAME_IN_JSON = frozenset({str, int, float, bool})


def _replay(
    audit_rows: Iterable[Any], replay: Any
) -> tuple[dict[tuple[str, int], dict[str, Any]], list[str]]:
    """Each record's audited columns, and its bookkeeping as the trail implies it: who
    inserted it and when, who changed it last and when, and its version (one more per
    transaction that changed it). An imported casebook's records come from ``replay``
    (:class:`pustula.store.transfer.replay.CasebookReplay`)."""
    state: dict[tuple[str, int], dict[str, Any]] = {}
    changed_at: dict[tuple[str, int], set[str]] = {}
    problems: list[str] = []
    for row in audit_rows:
        if row.action == "import":
            for key in [k for k in state if k[0] in NOT_IMPORTED]:
                del state[key]
            continue
        if row.record_id is None:
            continue
        key = (row.table_name, row.record_id)
        inserted: list[tuple[tuple[str, int], dict[str, Any]]] = []
        if row.action == CASEBOOK:
            entry = {"id": row.id, "at": row.at, "user": row.user, "new_value": row.new_value}
            records, refused = replay.records(entry, state)
            problems += refused
            inserted = [((t, v["id"]), v) for t, v in records]
        elif row.action == "insert":
            inserted = [(key, json.loads(row.new_value) if row.new_value else {})]
        for new_key, values in inserted:
            if new_key in state:
                problems.append(f"{new_key[0]} {new_key[1]} is inserted twice in the trail")
            state[new_key] = values | {"created_at": row.at, "created_by": row.user,
                                       "updated_at": None, "updated_by": None,
                                       "version": 1}  # fmt: skip
            changed_at[new_key] = set()
        if inserted:
            continue
        if key not in state:
            problems.append(
                f"audit row {row.id} changes {row.table_name} {row.record_id}, which has no insert"
            )
        elif row.field is not None:
            state[key][row.field] = None if row.new_value is None else json.loads(row.new_value)
            changed_at[key].add(row.at)
            state[key] |= {"updated_at": row.at, "updated_by": row.user,
                           "version": 1 + len(changed_at[key])}  # fmt: skip
    return state, problems


def reconcile(
    tables: Mapping[str, Iterable[Mapping[str, Any]]],
    audit_rows: Iterable[Any],
    *,
    audit_key: AuditKey | None = None,
    sources: tuple[Mapping[str, Any], Mapping[int, Any]] = ({}, {}),
) -> list[str]:
    """Compare every audited table's rows with the state the audit trail replays to.

    ``tables`` maps a table name to its rows (mappings of column to value); tables left
    out are not compared. Secret columns (password and token hashes) are compared by
    their keyed digest when ``audit_key`` is given
    (:func:`~pustula.store.audit.chain.secret_digest`). Returns the problems found, each naming
    table, record and field.
    """
    trail = list(audit_rows)
    replay = REPLAYS["casebook"](*sources)
    replay.prepare(trail)
    state, problems = _replay(trail, replay)
    audited = audited_tables()
    for name, rows in tables.items():
        info = audited.get(name)
        if info is None:
            continue
        seen = set()
        for row in rows:
            key = (name, int(row["id"]))
            seen.add(key)
            expected = state.get(key)
            if expected is None:
                problems.append(f"{name} {row['id']} has no insert in the audit trail")
                continue
            problems.extend(_differences(info, row, expected, audit_key))
        problems.extend(
            f"{name} {record_id} is in the audit trail but missing from the table (deleted)"
            for table, record_id in sorted(state)
            if table == name and (table, record_id) not in seen
        )
    return problems


#: Bookkeeping columns, checked against what the trail implies (see :func:`_replay`).
BOOKKEEPING = ("version", "created_at", "created_by", "updated_at", "updated_by")


def _differences(
    info: AuditedTable, row: Mapping[str, Any], expected: Mapping[str, Any],
    key: AuditKey | None = None,
) -> Iterator[str]:  # fmt: skip
    for column in (*info.columns, *BOOKKEEPING):
        if column not in expected:
            continue
        if column in info.redacted:
            audited = expected[column]
            # trails written before digests hold "<redacted>": nothing to compare with
            if key is None or not (audited is None or str(audited).startswith("hmac:")):
                continue
            salt = digest_salt(info.name, row["id"], column, info.salted)
            if secret_digest(key, row.get(column), salt=salt) != audited:
                yield f"{info.name} {row['id']}: {column} is not the value the audit trail holds"
            continue
        actual, audited = _normal(row.get(column)), expected[column]
        if actual != audited:
            yield (
                f"{info.name} {row['id']}: {column} is {_shown(actual)} in the table but "
                f"{_shown(audited)} in the audit trail"
            )


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _database_tables(connection: Connection) -> dict[str, list[Mapping[str, Any]]]:
    tables: dict[str, list[Mapping[str, Any]]] = {}
    for name in audited_tables():
        table = Base.metadata.tables[name]
        query = select(table).order_by(table.c.id)
        tables[name] = [dict(row._mapping) for row in connection.execute(query)]
    return tables


def verify_store(store: Store, *, anchor: Path | None = None) -> AuditReport:
    """The chain with the key, every table against the trail, and the anchor if given.

    Examples
    --------
    >>> report = verify_store(demo_store())
    >>> report.problems
    ()
    """
    with store.snapshot_connection() as connection:
        report = verify_audit(connection, store.audit_key)
        problems = list(report.problems)
        if report.ok:
            rows = connection.execute(select(AuditLog).order_by(AuditLog.id)).all()
            problems += reconcile(_database_tables(connection), rows, audit_key=store.audit_key,
                                  sources=load_sources(connection))  # fmt: skip
            if anchor is not None:
                problems += _check_anchor(connection, read_anchor(anchor))
        problems += _check_files(store, connection)
    if len(problems) > MAX_LISTED:
        problems = [*problems[:MAX_LISTED], f"and {len(problems) - MAX_LISTED} more"]
    return AuditReport(report.entries, report.last_hash, tuple(problems), report.key_id)


def _check_files(store: Store, connection: Connection) -> list[str]:
    """Every photograph's picture and thumbnail are kept and still hash to their names."""
    rows = connection.execute(
        select(Photograph.id, Photograph.sha256, Photograph.thumbnail_sha256)
    ).all()
    problems = []
    for number, picture, thumbnail in rows:
        for what, digest in (("picture", picture), ("thumbnail", thumbnail)):
            if not store.files.verify(digest):
                problems.append(
                    f"photograph {number}: its {what} file ({digest[:12]}…) is missing from "
                    f"{store.files.root} or was altered"
                )
    return problems


def write_anchor(store: Store, path: Path) -> dict[str, Any]:
    """Write the chain's head to ``path`` (keep it away from the database).

    Examples
    --------
    >>> from pathlib import Path
    >>> from pustula.store import verify_store
    >>> store = demo_store()
    >>> anchor = write_anchor(store, Path("anchor.json"))
    >>> verify_store(store, anchor=Path("anchor.json")).problems
    ()
    """
    with store.snapshot_connection() as connection:
        report = verify_audit(connection, store.audit_key)
    if not report.ok:
        raise AuditError(
            f"the audit trail does not verify, so it is not anchored: {report.problem}"
        )
    anchor = {
        "database": store.url,
        "last_id": report.entries,
        "last_hash": report.last_hash,
        "key_id": report.key_id,
        "anchored_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path.write_text(json.dumps(anchor, indent=2) + "\n", encoding="utf-8")
    return anchor


def read_anchor(path: Path) -> dict[str, Any]:
    try:
        anchor = json.loads(path.read_text(encoding="utf-8"))
        int(anchor["last_id"])
        str(anchor["last_hash"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"the anchor file {path} cannot be read as an anchor") from exc
    return dict(anchor)


def _check_anchor(connection: Connection, anchor: Mapping[str, Any]) -> list[str]:
    last_id = int(anchor["last_id"])
    if last_id == 0:
        return []
    found = connection.scalar(select(AuditLog.hash).where(AuditLog.id == last_id))
    if found is None:
        return [f"the anchored audit row {last_id} is gone: the trail was truncated"]
    if found != anchor["last_hash"]:
        return [f"audit row {last_id} differs from the anchor: the trail was rewritten"]
    return []
