"""Consistent online backups: SQLite's backup API, or ``pg_dump`` for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from pustula.errors import StoreError
from pustula.store.audit_key import key_file_for
from pustula.store.uow import Store

__all__ = ["backup", "restore"]


def _copy_key_beside(store: Store, out: Path) -> None:
    """A key kept beside the database goes beside its backup too, so the copy verifies.

    A key set in the environment stays where it is: the backup needs it, as the database
    does.
    """
    beside = key_file_for(store.engine.url)
    if beside is not None and store.audit_key.source == str(beside):
        shutil.copyfile(beside, out.with_name(out.name + ".audit-key"))
        out.with_name(out.name + ".audit-key").chmod(0o600)


def backup(store: Store, target: str | Path) -> Path:
    """Write a backup of ``store`` to ``target`` while it stays in use.

    SQLite: a page-by-page copy through SQLite's online backup API, which is consistent
    even while others write. PostgreSQL: ``pg_dump`` in its custom format (restore with
    ``pg_restore``).
    """
    out = Path(target)
    if out.exists():
        raise StoreError(f"{out} already exists; choose a new file for the backup")
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise StoreError("an in-memory SQLite database cannot be backed up")
        with sqlite3.connect(url.database) as source, sqlite3.connect(out) as copy:
            source.backup(copy)
        copy.close()
        _copy_key_beside(store, out)
        return out
    if shutil.which("pg_dump") is None:
        raise StoreError("pg_dump is not installed; install PostgreSQL's client tools")
    libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    completed = subprocess.run(
        ["pg_dump", "--format=custom", f"--file={out}", f"--dbname={libpq_url}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise StoreError(f"pg_dump failed: {completed.stderr.strip().splitlines()[-1]}")
    return out


def restore(
    store: Store,
    source: str | Path,
    *,
    user: str,
    reason: str,
    verify_key: bytes | None = None,
) -> dict[str, int]:
    """Restore a backup into the empty database of ``store``, after verifying it whole.

    ``source`` is a bundle folder (``pustula export``) or a SQLite backup file
    (``pustula backup``). A SQLite backup must pass :func:`verify_store` with its own audit
    key (the environment's, or the key file beside it) before anything is written; a
    bundle passes every check of :func:`import_bundle`. The restore is audited with the
    reason. A PostgreSQL backup is restored with ``pg_restore`` into an empty database and
    checked with ``pustula audit verify``.
    """
    from pustula.errors import AuditError
    from pustula.store.bundle import export_bundle, import_bundle
    from pustula.store.integrity import verify_store

    path = Path(source)
    if path.is_dir():
        return import_bundle(
            store, path, user=user, reason=reason, verify_key=verify_key, action="restore"
        )
    if not path.is_file():
        raise StoreError(f"{path} does not exist; give a backup file or a bundle folder")
    if path.read_bytes()[:16] != b"SQLite format 3\x00":
        raise StoreError(
            f"{path} is not a SQLite backup; a PostgreSQL backup is restored with pg_restore "
            "into an empty database, then checked with `pustula audit verify`"
        )
    backup_store = Store.open(f"sqlite:///{path.resolve()}")
    try:
        report = verify_store(backup_store)
        if not report.ok:
            raise AuditError(
                f"the backup does not verify, so nothing was restored: {report.problem}"
            )
        with tempfile.TemporaryDirectory() as folder:
            export_bundle(backup_store, folder)
            return import_bundle(store, folder, user=user, reason=reason, action="restore")
    finally:
        backup_store.dispose()
