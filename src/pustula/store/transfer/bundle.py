"""Export every table to a CSV or Parquet bundle, and import such a bundle back.

A bundle is a folder: one file per table and ``manifest.json`` with the schema revision,
row counts and a SHA-256 per file. Import is all-or-nothing and only into an empty
store: every row is converted and cross-checked (keys, references, uniqueness, scores
re-computed, audit chain re-verified) before the first row is written, and the first
bad row is named by file, row and reason.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    Float,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
)

from pustula import __version__
from pustula.checks.spreadsheet import escape_cell, unescape_cell
from pustula.checks.values import check_date
from pustula.errors import AuditError, DataValidationError, ImportBundleError, StoreError
from pustula.store.audit.chain import AuditEntry, append_audit, now_iso, resign, verify_chain
from pustula.store.audit.integrity import reconcile
from pustula.store.db.engine import WRITE
from pustula.store.db.migrate import head_revision
from pustula.store.db.models import Base, Study
from pustula.store.db.uow import Store
from pustula.store.keys.audit_key import AuditKey
from pustula.store.keys.signing import Verdict, trusted_keys, verify_signed
from pustula.store.records.randomization import list_problems
from pustula.store.records.study import protocol_from_text
from pustula.store.transfer import files as bundle_files

__all__ = ["BundleFormat", "ExportSummary", "bundle_tables", "export_bundle", "import_bundle"]

BundleFormat = Literal["csv", "parquet"]
MANIFEST = "manifest.json"
CSV_CELLS = "spreadsheet-safe"


@dataclass(frozen=True)
class ExportSummary:
    directory: Path
    format: BundleFormat
    rows: Mapping[str, int]
    synthetic: bool


#: Not study data: user accounts (with password hashes) never leave the server in a bundle.
#: Patients' e-mail addresses are kept apart from the study data and never leave either.
NOT_EXPORTED = frozenset(
    {"app_user", "study_role", "web_session", "login_failure", "patient_contact"}
)


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_EXPORTED]


def bundle_tables() -> list[str]:
    """The tables a bundle holds, in the order they are written and checked."""
    return [t.name for t in _tables()]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cell(value: Any, column_type: Any) -> Any:
    if value is not None and isinstance(column_type, JSON):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def export_bundle(
    store: Store,
    directory: str | Path,
    *,
    fmt: BundleFormat = "csv",
    progress: Callable[[str], None] | None = None,
) -> ExportSummary:
    """Write every table of ``store`` (removed records included) to ``directory``.

    The tables are read from one snapshot, so the audit chain matches the data even while
    others save. The manifest, and with it every file's checksum and row count, is signed
    with the installation's Ed25519 key (:mod:`pustula.store.keys.signing`).

    Examples
    --------
    >>> summary = export_bundle(demo_store(), "export")
    >>> summary.rows["subject"], summary.synthetic
    (6, True)
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    files: dict[str, dict[str, Any]] = {}
    with store.snapshot_connection() as connection:
        synthetic = bool(connection.scalar(select(func.count()).where(Study.synthetic.is_(True))))
        for table in _tables():
            rows = [
                [_cell(v, c.type) for v, c in zip(row, table.columns, strict=True)]
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            path = out / f"{table.name}.{fmt}"
            _write(path, [c.name for c in table.columns], rows, fmt)
            counts[table.name] = len(rows)
            files[table.name] = {"file": path.name, "rows": len(rows), "sha256": _sha256(path)}
            if progress:
                progress(table.name)
        digests = bundle_files.referenced(connection)
    photo_files = (
        bundle_files.write_files(store.files, digests, out / bundle_files.FILES) if digests else {}
    )
    manifest = {
        "pustula_version": __version__,
        "schema_revision": head_revision(),
        "format": fmt,
        "synthetic": synthetic,
        "note": "SYNTHETIC illustrative data, not patient data" if synthetic else "",
        "audit_key_id": store.audit_key.key_id,
        # CSV text cells that begin like a formula carry a leading quote (OWASP), as does a
        # cell that begins with a quote; import removes exactly one
        "csv_cells": CSV_CELLS,
        "tables": files,
        # the photographs' pictures and thumbnails, in files/ by SHA-256 (with their sizes)
        "files": photo_files,
    }
    signed = store.signing_key.sign(manifest)
    (out / MANIFEST).write_text(json.dumps(signed, indent=2) + "\n", encoding="utf-8")
    return ExportSummary(out, fmt, counts, synthetic)


def _write(path: Path, header: list[str], rows: list[list[Any]], fmt: BundleFormat) -> None:
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([["" if v is None else _csv_text(v) for v in row] for row in rows])
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    pq.write_table(pa.table(columns), path)


def _csv_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    # text a spreadsheet would run as a formula gets a quote in front; read back exactly
    return escape_cell(value) if isinstance(value, str) else str(value)


def _read(path: Path, fmt: BundleFormat, *, escaped: bool = False) -> Iterator[dict[str, Any]]:
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8") as handle:
            if not escaped:
                yield from csv.DictReader(handle)
                return
            for row in csv.DictReader(handle):
                yield {k: unescape_cell(v) if isinstance(v, str) else v for k, v in row.items()}
        return
    import pyarrow.parquet as pq

    yield from pq.read_table(path).to_pylist()


def _convert(raw: Any, column: Any) -> Any:
    kind = column.type
    if (
        raw is None
        or (raw == "" and not isinstance(kind, String | JSON))
        or (raw == "" and column.nullable and not isinstance(kind, JSON))
    ):
        raw = None
    if raw is None:
        if not column.nullable or column.primary_key:
            raise ValueError("a value is required")
        return None
    if isinstance(kind, Boolean):
        return _boolean(raw)
    if isinstance(kind, Integer):
        if isinstance(raw, float | str) and float(raw) != int(float(raw)):
            raise ValueError(f"must be a whole number; got {raw!r}")
        return int(float(raw)) if isinstance(raw, str) else int(raw)
    if isinstance(kind, Float):
        if isinstance(raw, bool) or not math.isfinite(number := float(raw)):
            raise ValueError(f"must be a finite number; got {raw!r}")
        return number
    if isinstance(kind, Date):
        day = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        try:
            return check_date(day, field=column.name)
        except DataValidationError as exc:
            raise ValueError(exc.message.removeprefix(f"{column.name}: ")) from exc
    if isinstance(kind, JSON):
        return json.loads(raw)
    value = str(raw)
    if isinstance(kind, String) and kind.length is not None and len(value) > kind.length:
        raise ValueError(f"is longer than {kind.length} characters")
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    lowered = str(raw).strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(f"must be true or false; got {raw!r}")


def _load_table(
    directory: Path, table: Table, entry: Mapping[str, Any], fmt: BundleFormat,
    *, escaped: bool = False,
) -> list[dict[str, Any]]:  # fmt: skip
    name = str(entry.get("file", f"{table.name}.{fmt}"))
    path = directory / name
    if not path.is_file():
        raise ImportBundleError(f"{name}: the file is missing from the bundle", file=name)
    if _sha256(path) != entry.get("sha256"):
        raise ImportBundleError(
            f"{name}: the file does not match the manifest's checksum (changed or damaged)",
            file=name,
        )
    rows: list[dict[str, Any]] = []
    try:
        raws = list(_read(path, fmt, escaped=escaped))
    except (ValueError, OSError, csv.Error) as exc:
        raise ImportBundleError(
            f"{name}: cannot be read as {fmt.upper()} ({type(exc).__name__}); export it again",
            file=name,
        ) from exc
    for number, raw in enumerate(raws, start=1):
        unknown = set(raw) - set(table.columns.keys())
        if unknown:
            col = sorted(unknown)[0]
            raise ImportBundleError(
                f"{name} row {number}: unknown column `{col}`", file=name, row=number
            )
        row: dict[str, Any] = {}
        for column in table.columns:
            try:
                row[column.name] = _convert(raw.get(column.name), column)
            except (ValueError, TypeError, OverflowError) as exc:
                raise ImportBundleError(
                    f"{name} row {number}: column `{column.name}` {exc}", file=name, row=number
                ) from exc
        rows.append(row)
    if len(rows) != entry.get("rows"):
        raise ImportBundleError(
            f"{name}: holds {len(rows)} rows but the manifest says {entry.get('rows')} "
            "(rows were added or removed)",
            file=name,
        )
    return rows


def _check_keys(
    table: Table, rows: list[dict[str, Any]], ids: dict[str, set[Any]], name: str
) -> None:
    uniques = [tuple(c.name for c in table.primary_key.columns)]
    uniques += [
        tuple(c.name for c in con.columns)
        for con in table.constraints
        if isinstance(con, UniqueConstraint)
    ]
    for key in uniques:
        seen: set[tuple[Any, ...]] = set()
        for number, row in enumerate(rows, start=1):
            value = tuple(row[k] for k in key)
            if None in value:
                continue  # as in SQL: a key with an empty column is never a duplicate
            if value in seen:
                raise ImportBundleError(
                    f"{name} row {number}: duplicate {', '.join(key)} {value}",
                    file=name,
                    row=number,
                )
            seen.add(value)
    for fk in table.foreign_keys:
        parent = ids.get(fk.column.table.name, set())
        for number, row in enumerate(rows, start=1):
            value = row[fk.parent.name]
            if value is not None and value not in parent:
                raise ImportBundleError(
                    f"{name} row {number}: `{fk.parent.name}` {value} refers to a "
                    f"{fk.column.table.name} that is not in the bundle",
                    file=name,
                    row=number,
                )
    ids[table.name] = {row["id"] for row in rows if "id" in row}


def _check_scores(rows: list[dict[str, Any]], name: str) -> None:
    from pustula.errors import ScoringInputError
    from pustula.scoring import get_instrument

    for number, row in enumerate(rows, start=1):
        if not isinstance(row["items"], dict):
            raise ImportBundleError(
                f"{name} row {number}: column `items` must be a JSON object of item values",
                file=name,
                row=number,
            )
        try:
            result = get_instrument(row["instrument"]).score(row["items"])
        except ScoringInputError as exc:
            raise ImportBundleError(f"{name} row {number}: {exc}", file=name, row=number) from exc
        same = (result.total is None and row["total"] is None) or (
            result.total is not None
            and row["total"] is not None
            and abs(result.total - row["total"]) < 1e-9
        )
        if not same:
            raise ImportBundleError(
                f"{name} row {number}: stored total {row['total']} does not match the items "
                f"(they score {result.total})",
                file=name,
                row=number,
            )


def _audit_rows(log: list[dict[str, Any]]) -> list[SimpleNamespace]:
    return [SimpleNamespace(**row) for row in log]


def _check_audit(
    data: Mapping[str, list[dict[str, Any]]], manifest: Mapping[str, Any], key: AuditKey
) -> bool:
    """The bundle's chain, and its tables against its own audit trail.

    Returns whether the chain's signatures were checked: they can be only when the bundle
    was written with this database's audit key (a backup restored where it was made).
    """
    log, head, name = data["audit_log"], data["audit_head"], manifest["tables"]["audit_log"]["file"]
    if len(head) != 1 or head[0]["id"] != 1:
        raise ImportBundleError(
            "audit_head: must hold exactly one row, with id 1",
            file=f"audit_head.{manifest.get('format', 'csv')}",
        )
    same_key = manifest.get("audit_key_id") == key.key_id
    report = verify_chain(
        _audit_rows(log), key, head=(head[0]["last_id"], head[0]["last_hash"]),
        links_only=not same_key,
    )  # fmt: skip
    if not report.ok:
        where = name if report.row is None else f"{name} row {report.row}"
        raise ImportBundleError(
            f"{where}: the audit chain does not verify here ({report.problem})",
            file=name,
            row=report.row,
        )
    chunks: dict[int, list[str]] = {}
    for chunk in sorted(
        data.get("import_source_chunk", []), key=lambda c: (c["source_id"], c["seq"])
    ):
        chunks.setdefault(chunk["source_id"], []).append(chunk["data"])
    sources = {s["sha256"]: s for s in data.get("import_source", [])}
    problems = reconcile({t: data[t] for t in data if t != "audit_log"}, _audit_rows(log),
                         sources=(sources, chunks))  # fmt: skip
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ImportBundleError(
            f"the bundle's data do not match its own audit trail: {problems[0]}{more}", file=name
        )
    return same_key


def _check_signature(
    store: Store, manifest: Mapping[str, Any], trust: Iterable[Path], accept_unverified: bool
) -> Verdict:
    """The manifest's signature against the keys this installation trusts.

    Unsigned, or signed by a key not trusted here: refused unless ``accept_unverified``
    (then the import is audited as unverified). Signed by a trusted key but altered since:
    always refused.
    """
    try:
        verdict = verify_signed(manifest, trusted_keys(store.signing_key, trust))
    except AuditError as exc:
        raise ImportBundleError(f"{MANIFEST}: {exc}", file=MANIFEST) from exc
    if not verdict.verified and not accept_unverified:
        raise ImportBundleError(
            f"{MANIFEST}: the bundle cannot be verified: {verdict.reason}. Trust the writer's "
            "public key (--trust-key FILE, or PUSTULA_TRUSTED_KEYS), or, knowing where the "
            "bundle comes from, accept it unverified (--accept-unverified; the import is "
            "recorded as unverified in the audit trail)",
            file=MANIFEST,
        )
    return verdict


def import_bundle(
    store: Store,
    directory: str | Path,
    *,
    user: str,
    reason: str,
    trust: Iterable[Path] = (),
    accept_unverified: bool = False,
    action: str = "import",
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Import a bundle written by :func:`export_bundle` into an empty store.

    The manifest must carry a valid Ed25519 signature by a trusted key: this
    installation's own, one in ``PUSTULA_TRUSTED_KEYS``, or one of the PEM files in
    ``trust``; ``accept_unverified`` lets an unsigned bundle, or one signed by an unknown
    key, in, and the audit trail records it as unverified. A signature by a trusted key
    that does not verify is always refused. Every file must match its checksum and row
    count; the chain must link up (and verify with the audit key when the bundle was
    written with this database's key); every table must equal what the bundle's own
    audit trail replays to. The imported trail is then signed with this database's key.

    Raises
    ------
    ImportBundleError
        The bundle is incomplete, from another schema revision, the store is not empty,
        or a row is bad: nothing is written, and the message names file, row and reason.

    Examples
    --------
    >>> from pustula.store import Store, export_bundle
    >>> _ = export_bundle(demo_store(), "export")
    >>> copy = Store.open("sqlite:///copy.sqlite3")
    >>> copy.create_schema()
    >>> counts = import_bundle(copy, "export", user="dm", reason="second site's copy")
    >>> counts["subject"]
    6
    """
    source = Path(directory)
    manifest = _read_manifest(source)
    verdict = _check_signature(store, manifest, trust, accept_unverified)
    if manifest.get("schema_revision") != head_revision():
        raise ImportBundleError(
            f"{MANIFEST}: the bundle has schema {manifest.get('schema_revision')}, this Pustula "
            f"uses {head_revision()}; import it with the matching version",
            file=MANIFEST,
        )
    fmt: BundleFormat = manifest.get("format", "csv")
    data: dict[str, list[dict[str, Any]]] = {}
    ids: dict[str, set[Any]] = {}
    for table in _tables():
        entry = manifest.get("tables", {}).get(table.name)
        if entry is None:
            raise ImportBundleError(f"{MANIFEST}: table {table.name} is missing", file=MANIFEST)
        rows = _load_table(source, table, entry, fmt,
                           escaped=manifest.get("csv_cells") == CSV_CELLS)  # fmt: skip
        _check_keys(table, rows, ids, entry["file"])
        data[table.name] = rows
        if progress:
            progress(f"checked {table.name}")
    _check_scores(data["assessment"], manifest["tables"]["assessment"]["file"])
    _check_allocation(data, manifest)
    listed = manifest.get("files") or {}
    if not isinstance(listed, dict):
        raise ImportBundleError(f"{MANIFEST}: files must list SHA-256 to size", file=MANIFEST)
    bundle_files.check_bundle_files(source, listed, bundle_files.referenced_in(data["photograph"]))
    if progress:
        progress("scores re-computed")
    key = store.audit_key
    if not _check_audit(data, manifest, key):
        last = resign(data["audit_log"], key)
        data["audit_head"][0].update(last_hash=last)
    data["audit_head"][0]["key_id"] = key.key_id
    if progress:
        progress("audit trail verified and reconciled")
    added = bundle_files.copy_files_in(store.files, source, listed) if listed else []
    try:
        return _write_all(store, data, source, verdict, user=user, reason=reason, action=action)
    except BaseException:
        for digest in added:
            store.files.discard(digest)
        raise


def _write_all(
    store: Store, data: dict[str, list[dict[str, Any]]], source: Path, verdict: Verdict, *,
    user: str, reason: str, action: str,
) -> dict[str, int]:  # fmt: skip
    key = store.audit_key
    with (
        store.engine.connect().execution_options(**{WRITE: True}) as connection,
        connection.begin(),
    ):
        _require_empty(connection)
        connection.execute(text("DELETE FROM audit_head"))
        for table in _tables():
            if data[table.name]:
                connection.execute(insert(table), data[table.name])
        _reset_sequences(connection)
        summary = {name: len(rows) for name, rows in data.items()}
        provenance = {"bundle": source.name, "rows": summary, "verified": verdict.verified,
                      "signature": verdict.reason}  # fmt: skip
        entry = AuditEntry(action, "*", None, None, None, json.dumps(provenance))
        append_audit(connection, [entry], user=user, at=now_iso(), reason=reason, key=key)
    return summary


def _check_allocation(
    data: Mapping[str, list[dict[str, Any]]], manifest: Mapping[str, Any]
) -> None:
    """A randomized trial's allocation list against the list its seed gives: the arms
    reach the trail only as digests keyed at the source, so the seed is the check here."""
    studies = {s["id"]: s for s in data.get("study", [])}
    for header in data.get("allocation_list", []):
        study = studies.get(header["study_id"])
        if study is None:
            continue  # the foreign-key check names it
        slots = [a for a in data.get("allocation", []) if a["list_id"] == header["id"]]
        protocol = protocol_from_text(study["protocol_yaml"], study["code"])
        problems = list_problems(protocol, header, slots)
        if problems:
            name = manifest["tables"]["allocation"]["file"]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ImportBundleError(f"{name}: the allocation list is not the one its seed "
                                    f"gives: {problems[0]}{more}", file=name)  # fmt: skip


def _read_manifest(source: Path) -> dict[str, Any]:
    """The manifest, checked for the shape import relies on before anything else."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportBundleError(f"{MANIFEST}: cannot be read as JSON text", file=MANIFEST) from exc
    tables = manifest.get("tables") if isinstance(manifest, dict) else None
    if not isinstance(tables, dict) or not all(
        isinstance(e, dict) and isinstance(e.get("file"), str) and isinstance(e.get("rows"), int)
        for e in tables.values()
    ):
        raise ImportBundleError(
            f"{MANIFEST}: `tables` must map each table to its file, row count and checksum",
            file=MANIFEST,
        )
    if manifest.get("format", "csv") not in ("csv", "parquet"):
        raise ImportBundleError(
            f"{MANIFEST}: format must be csv or parquet; got {manifest.get('format')!r}",
            file=MANIFEST,
        )
    return dict(manifest)


def _require_empty(connection: Connection) -> None:
    from pustula.store.db.models import AuditLog
    from pustula.store.db.uow import NO_TABLES, without_tables

    if without_tables(connection):
        raise StoreError(NO_TABLES)
    studies = connection.scalar(select(func.count()).select_from(Study))
    entries = connection.scalar(select(func.count()).select_from(AuditLog))
    if studies or entries:
        raise ImportBundleError(
            "the target database is not empty; import into a new database (pustula init)",
            file=MANIFEST,
        )


def _reset_sequences(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    for table in _tables():
        column = table.columns.get("id")
        if column is None or column.autoincrement is False:
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )
