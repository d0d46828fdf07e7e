"""Every past schema upgrades to the newest with its data intact and its audit trail
verifying: a demo study made by the version of Pustula that introduced each migration
(scripts/make-schema-fixtures keeps them in tests/store/db/schemas/), upgraded here."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pustula.store import Store, add_site, get_study, verify_store
from pustula.store.db.migrate import current_revision, head_revision
from pustula.store.db.models import Assessment, AuditLog, Subject, Visit

SCHEMAS = Path(__file__).parent / "schemas"
FIXTURES = sorted(SCHEMAS.glob("*.sqlite3.gz"))


def _counts(store: Store) -> dict[str, int]:
    with store.reader() as session:
        return {m.__tablename__: int(session.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Subject, Visit, Assessment)}  # fmt: skip


def test_there_is_a_fixture_for_every_past_migration() -> None:
    versions = Path(__file__).parents[3] / "src/pustula/store/db/migrations/versions"
    past = sorted(p.name[:4] for p in versions.glob("[0-9][0-9][0-9][0-9]_*.py"))[:-1]
    assert [f.name[:4] for f in FIXTURES] == past


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name[:4] for f in FIXTURES])
def test_a_database_of_each_past_schema_upgrades_and_verifies(
    fixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the fixture's own key, beside it, as the installation that made it kept it
    monkeypatch.delenv("PUSTULA_AUDIT_KEY", raising=False)
    database = tmp_path / "study.sqlite3"
    with gzip.open(fixture) as packed, database.open("wb") as out:
        shutil.copyfileobj(packed, out)
    key = fixture.with_name(fixture.name.removesuffix(".gz") + ".audit-key")
    if key.exists():
        shutil.copy(key, tmp_path / "study.sqlite3.audit-key")
    store = Store.open(f"sqlite:///{database}", must_exist=True)
    assert current_revision(store.engine) == fixture.name[:4]
    with store.engine.connect() as connection:
        trail_before = connection.scalar(select(func.count()).select_from(AuditLog.__table__))
    before = _counts(store)
    store.create_schema()
    assert current_revision(store.engine) == head_revision()
    assert _counts(store) == before and before["subject"] == 6
    report = verify_store(store)
    assert report.ok, report.problems
    assert report.entries >= (trail_before or 0)
    # and it takes new data, audited
    with store.transaction(user="dm") as tx:
        add_site(tx, get_study(tx.session), code="SITE9", name="After the upgrade")
    assert verify_store(store).ok
    store.dispose()


def test_the_accounts_of_a_server_from_before_roles_per_study_keep_their_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 0013's demo accounts (one role per server) hold the same role in the study
    after the upgrade, by an audited step; the administrator of every site is a server
    administrator; running the upgrade again changes nothing."""
    from pustula.store.accounts.studies import studies_of
    from pustula.store.db.models import StudyRole, User

    monkeypatch.delenv("PUSTULA_AUDIT_KEY", raising=False)
    fixture = SCHEMAS / "0013.sqlite3.gz"
    database = tmp_path / "study.sqlite3"
    with gzip.open(fixture) as packed, database.open("wb") as out:
        shutil.copyfileobj(packed, out)
    shutil.copy(SCHEMAS / "0013.sqlite3.audit-key", tmp_path / "study.sqlite3.audit-key")
    store = Store.open(f"sqlite:///{database}", must_exist=True)
    store.create_schema()
    with store.reader() as session:
        accounts = {u.username: (u.role, u.id) for u in session.scalars(select(User))}
        held = {
            name: [(s.code, s.role, s.sites) for s in studies_of(session, user_id)]
            for name, (_, user_id) in accounts.items()
        }
        grants = session.scalar(select(func.count()).select_from(StudyRole))
    # the demo's accounts (pustula.demo.DEMO_USERS as they were in 0013)
    assert held == {
        "investigator": [("TOFA-PPP", "investigator", ("SITE1", "SITE2"))],
        "monitor": [("TOFA-PPP", "monitor", ("*",))],
        "statistician": [("TOFA-PPP", "statistician", ("*",))],
        "site-b": [("TOFA-PPP", "data_entry", ("SITE2",))],
        "admin": [("TOFA-PPP", "admin", ("*",))],
    }
    assert accounts["admin"][0] == "admin" and accounts["site-b"][0] == "member"
    assert grants == 4
    assert verify_store(store).ok
    store.create_schema()
    with store.reader() as session:
        assert session.scalar(select(func.count()).select_from(StudyRole)) == 4
    store.dispose()


def test_a_study_from_before_protocol_versions_gets_its_protocol_as_first_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 0014's study gets its protocol as approved version 1.0, by an audited step,
    once; its visits keep their flags, with no version recorded for them."""
    from pustula.store.db.models import ProtocolVersion

    monkeypatch.delenv("PUSTULA_AUDIT_KEY", raising=False)
    database = tmp_path / "study.sqlite3"
    with gzip.open(SCHEMAS / "0014.sqlite3.gz") as packed, database.open("wb") as out:
        shutil.copyfileobj(packed, out)
    shutil.copy(SCHEMAS / "0014.sqlite3.audit-key", tmp_path / "study.sqlite3.audit-key")
    store = Store.open(f"sqlite:///{database}", must_exist=True)
    store.create_schema()
    store.create_schema()  # a second upgrade adds nothing
    with store.reader() as session:
        rows = session.execute(select(ProtocolVersion.protocol_version, ProtocolVersion.status,
                                      ProtocolVersion.created_by)).all()  # fmt: skip
        flags = session.execute(select(Visit.window_status, Visit.protocol_version)).all()
    assert [tuple(r) for r in rows] == [("1.0", "approved", "pustula-upgrade")]
    assert {f.protocol_version for f in flags} == {None} and len(flags) == 24
    assert verify_store(store).ok
    store.dispose()
