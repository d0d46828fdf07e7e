"""Backups are complete, consistent copies."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pustula.demo import create_demo_study
from pustula.errors import StoreError
from pustula.store import Store, backup, verify_audit
from tests.store.helpers import audit_count


def test_a_sqlite_backup_opens_and_verifies(sqlite_store: Store, tmp_path: Path) -> None:
    create_demo_study(sqlite_store)
    out = backup(sqlite_store, tmp_path / "copy.sqlite3")
    copy = Store.open(f"sqlite:///{out}")
    with copy.engine.connect() as connection:
        assert verify_audit(connection, copy.audit_key).ok
    assert audit_count(copy) == audit_count(sqlite_store)


def test_a_backup_never_overwrites(sqlite_store: Store, tmp_path: Path) -> None:
    (tmp_path / "copy.sqlite3").write_text("keep me")
    with pytest.raises(StoreError, match="already exists"):
        backup(sqlite_store, tmp_path / "copy.sqlite3")
    assert (tmp_path / "copy.sqlite3").read_text() == "keep me"


def test_a_postgres_backup_is_a_pg_dump_archive(store: Store, tmp_path: Path) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("pg_dump applies to PostgreSQL")
    if shutil.which("pg_restore") is None:
        pytest.fail("pg_restore is missing although PostgreSQL is configured")
    create_demo_study(store)
    out = backup(store, tmp_path / "copy.dump")
    listing = subprocess.run(
        ["pg_restore", "--list", str(out)], capture_output=True, text=True, check=True
    )
    assert "TABLE DATA public audit_log" in listing.stdout
