"""Fixtures shared by the store, analysis, CLI and web tests.

``store`` runs each test on SQLite and on PostgreSQL. PostgreSQL comes from
``PUSTULA_TEST_POSTGRES_URL`` (``scripts/test`` starts a throwaway server and sets it).
Without it the PostgreSQL cases are skipped, unless ``PUSTULA_TEST_REQUIRE_POSTGRES=1``
(set by ``scripts/test`` and so by CI), where a missing server fails the run instead.
Under pytest-xdist (``scripts/test`` runs a worker per core) each worker has a database of
its own on that server.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, make_url, text

from pustula.store import Store
from pustula.store.keys.signing import new_private_pem

# CI runs Hypothesis derandomized: the same examples every run, so a red build is
# reproducible; locally the default profile explores new examples each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev")
hypothesis_settings.load_profile(os.environ.get("PUSTULA_HYPOTHESIS_PROFILE", "dev"))

POSTGRES_URL = os.environ.get("PUSTULA_TEST_POSTGRES_URL")
# One audit key for every store of the run, as one installation has (PostgreSQL needs one
# set); tests of the key kept beside a SQLite file remove it for themselves.
os.environ.setdefault("PUSTULA_AUDIT_KEY", "pustula-test-audit-key-" + "7" * 41)
# ... and one Ed25519 signing key, so that a bundle one store writes another imports, as
# within one installation; the signature tests make other keys for other installations.
if "PUSTULA_SIGNING_KEY_FILE" not in os.environ:
    _KEY_FILE = Path(tempfile.mkdtemp(prefix="pustula-test-key-")) / "signing-key.pem"
    _KEY_FILE.write_bytes(new_private_pem())
    os.environ["PUSTULA_SIGNING_KEY_FILE"] = str(_KEY_FILE)
REQUIRE_POSTGRES = os.environ.get("PUSTULA_TEST_REQUIRE_POSTGRES") == "1"


def postgres_url() -> str:
    if POSTGRES_URL:
        return _worker_database(POSTGRES_URL)
    if REQUIRE_POSTGRES:
        pytest.fail("PUSTULA_TEST_REQUIRE_POSTGRES=1 but PUSTULA_TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL not configured (PUSTULA_TEST_POSTGRES_URL)")


@functools.cache
def _worker_database(url: str) -> str:
    """The server's database for a run on one process; a database of its own for each
    pytest-xdist worker, so that workers never drop each other's schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"pustula_test_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def database_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url = postgres_url()
    reset_postgres(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no schema) on each backend."""
    return database_url(request.param, tmp_path)


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each backend (photographs in a folder of its own)."""
    s = Store.open(db_url, files_dir=tmp_path / "files")
    s.create_schema()
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    s.create_schema()
    yield s
    s.dispose()
