"""Scheduled backups keep the newest N; a restore drill restores the newest into a scratch
database and verifies it, and fails loudly on a damaged backup (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, select, text
from typer.testing import CliRunner

from pustula.cli import app
from pustula.demo import create_demo_study
from pustula.errors import AuditError
from pustula.store import Store
from pustula.store.db.models import Subject, Visit
from pustula.store.services.photos import upload_photograph
from pustula.store.transfer.backup import backup_into, restore_drill, scheduled_backups
from tests.conftest import postgres_url
from tests.photos import phone_jpeg


def _with_a_photograph(store: Store) -> None:
    create_demo_study(store)
    with store.reader() as session:
        visit = session.scalars(select(Visit.id).join(Subject, Subject.id == Visit.subject_id)
                                .where(Subject.code == "S02")).first()  # fmt: skip
    assert visit is not None
    upload_photograph(store, "coordinator", "S02", visit, region="left_sole", data=phone_jpeg())


def test_only_the_newest_backups_are_kept_with_their_signatures_and_files(
    sqlite_store: Store, tmp_path: Path
) -> None:
    _with_a_photograph(sqlite_store)
    written = [backup_into(sqlite_store, tmp_path / "nightly", keep=2) for _ in range(3)]
    kept = scheduled_backups(tmp_path / "nightly")
    assert kept == [written[1][0], written[2][0]] and written[2][1] == [written[0][0]]
    names = sorted(p.name for p in (tmp_path / "nightly").iterdir())
    assert names == sorted([*(p.name for p in kept), *(p.name + ".sig" for p in kept),
                            *(p.name + ".files" for p in kept)])  # fmt: skip


def test_the_drill_restores_the_newest_backup_and_verifies_it(
    sqlite_store: Store, tmp_path: Path
) -> None:
    _with_a_photograph(sqlite_store)
    backup_into(sqlite_store, tmp_path / "nightly", keep=3)
    drill = restore_drill(sqlite_store, tmp_path / "nightly")
    assert drill.ok and (drill.subjects, drill.photographs) == (6, 1)
    assert drill.backup == scheduled_backups(tmp_path / "nightly")[-1]


def test_a_damaged_backup_fails_the_drill(sqlite_store: Store, tmp_path: Path) -> None:
    create_demo_study(sqlite_store)
    written, _ = backup_into(sqlite_store, tmp_path / "nightly", keep=3)
    data = bytearray(written.read_bytes())
    data[len(data) // 2] ^= 0xFF
    written.write_bytes(bytes(data))
    with pytest.raises(AuditError, match="changed since"):
        restore_drill(sqlite_store, tmp_path / "nightly")


def test_the_commands_as_cron_runs_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    store = Store.open(url)
    store.create_schema()
    _with_a_photograph(store)
    store.dispose()
    runner = CliRunner()
    made = runner.invoke(app, ["--database", url, "backup", "--into", str(tmp_path / "b"),
                               "--keep", "5"])  # fmt: skip
    assert made.exit_code == 0 and "0 older backup(s) removed" in made.output
    drilled = runner.invoke(app, ["--database", url, "restore-drill", str(tmp_path / "b")])
    assert drilled.exit_code == 0, drilled.output
    assert "6 subjects, 1 photographs" in drilled.output
    assert "restores and verifies" in drilled.output
    both = runner.invoke(app, ["--database", url, "backup", str(tmp_path / "x.sqlite3"),
                               "--into", str(tmp_path / "b")])  # fmt: skip
    assert both.exit_code == 1 and "not both" in both.output


@pytest.mark.postgres
def test_a_pg_dump_backup_is_drilled_into_a_scratch_database(tmp_path: Path) -> None:
    url = postgres_url()
    from tests.conftest import reset_postgres

    reset_postgres(url)
    store = Store.open(url, files_dir=tmp_path / "files")
    store.create_schema()
    _with_a_photograph(store)
    backup_into(store, tmp_path / "nightly", keep=2)
    scratch = make_url(url).set(database=f"{make_url(url).database}_drill")
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}"'))
        connection.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    try:
        drill = restore_drill(store, tmp_path / "nightly",
                              scratch_url=scratch.render_as_string(hide_password=False))  # fmt: skip
        assert drill.ok and (drill.subjects, drill.photographs) == (6, 1)
    finally:
        store.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        admin.dispose()
