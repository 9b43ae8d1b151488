"""One migration history for both databases, and it matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bridge.storage.database import Database
from bridge.storage.migrate import current_revision, head_revision, is_at_head, upgrade
from bridge.storage.models import Base


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def test_upgrade_to_head_creates_every_table(db_url: str) -> None:
    db = Database(db_url)
    assert current_revision(db) is None and not is_at_head(db)
    upgrade(db)
    assert current_revision(db) == head_revision() and is_at_head(db)
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    upgrade(db)  # idempotent
    db.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    db = Database(db_url)
    upgrade(db)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    db.dispose()
