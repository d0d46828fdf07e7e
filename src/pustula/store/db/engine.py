"""Engines for the store: SQLite (embedded default) and PostgreSQL through one code path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pustula.errors import ConfigurationError

__all__ = ["WRITE", "is_sqlite", "make_engine"]

#: Execution option a unit of work sets so that SQLite takes the write lock at BEGIN.
WRITE = "pustula_write"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, must_exist: bool = False, **kwargs: Any) -> Engine:
    """Create an engine for ``url``.

    SQLite is opened in WAL mode with foreign keys on and a busy timeout. A unit of work
    starts with ``BEGIN IMMEDIATE``, so two writers queue instead of one failing at
    commit; reads start a plain deferred transaction and never wait for a writer.

    ``must_exist`` refuses a SQLite file that does not exist yet (SQLite would create an
    empty one on first use).

    Raises
    ------
    ConfigurationError
        The URL cannot be parsed, names a database Pustula does not support, or names a
        SQLite file that does not exist when ``must_exist``.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            "the database setting is not a database URL; give sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST/DATABASE"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"the database `{backend}` is not supported; Pustula stores studies in SQLite "
            "(sqlite:///FILE) or PostgreSQL (postgresql+psycopg://...)"
        )
    in_a_file = backend == "sqlite" and parsed.database not in (None, "", ":memory:")
    if must_exist and in_a_file and not Path(str(parsed.database)).is_file():
        raise ConfigurationError(
            f"the database {parsed.database} does not exist; create it with `pustula init`"
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "postgresql":
        # a web worker runs up to 40 request threads; let them share a larger pool
        kwargs = {"pool_size": 10, "max_overflow": 30} | kwargs
    engine = create_engine(parsed, **kwargs)
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, instead of pysqlite's own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
