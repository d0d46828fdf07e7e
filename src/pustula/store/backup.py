"""Consistent online backups: SQLite's backup API, or ``pg_dump`` for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from pustula.errors import StoreError
from pustula.store.audit_key import key_file_for
from pustula.store.uow import Store

__all__ = ["backup"]


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
