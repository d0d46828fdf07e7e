"""Alembic migrations, run from the package so an installed Pustula can migrate itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

__all__ = ["current_revision", "downgrade", "head_revision", "upgrade"]

_SCRIPTS = Path(__file__).with_name("migrations")


def _config(engine: Engine, audit_key: Callable[[], Any] | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["engine"] = engine
    # a migration that re-signs the audit chain asks for the key only if it has rows to sign
    config.attributes["audit_key"] = audit_key
    return config


def upgrade(
    engine: Engine, revision: str = "head", *, audit_key: Callable[[], Any] | None = None
) -> None:
    command.upgrade(_config(engine, audit_key), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(_config(engine), revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(_SCRIPTS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
