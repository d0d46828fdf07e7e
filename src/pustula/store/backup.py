"""Consistent online backups: SQLite's backup API, or ``pg_dump`` for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from pustula.errors import StoreError
from pustula.store.uow import Store

__all__ = ["backup"]


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
