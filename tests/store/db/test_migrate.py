"""Migrations run up and down on both databases and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from pustula.store import Store
from pustula.store.db.migrate import current_revision, downgrade, head_revision, upgrade
from pustula.store.db.models import Base


def test_up_down_up(db_url: str) -> None:
    store = Store.open(db_url)
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()
    assert set(Base.metadata.tables) <= set(inspect(store.engine).get_table_names())
    downgrade(store.engine, "base")
    assert current_revision(store.engine) is None
    assert not set(Base.metadata.tables) & set(inspect(store.engine).get_table_names())
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()
    store.dispose()


def test_the_migrated_schema_matches_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
