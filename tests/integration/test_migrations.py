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


def _storage_ids(db: Database) -> dict[str, object]:
    """Where each table's data lives: a rebuilt (or rewritten) table moves."""
    from sqlalchemy import bindparam, text

    tables = ("deliveries", "order_sync", "dispatch_attempts")
    with db.engine.connect() as connection:
        if db.is_postgres:
            query = "SELECT relname, relfilenode FROM pg_class WHERE relname IN :names"
        else:
            query = "SELECT name, rootpage FROM sqlite_master WHERE name IN :names"
        rows = connection.execute(text(query).bindparams(bindparam("names", expanding=True)),
                                  {"names": list(tables)})
        return {name: where for name, where in rows}


def test_0004_adds_tries_to_existing_deliveries_without_rebuilding_a_table(db_url: str) -> None:
    from sqlalchemy import text

    db = Database(db_url)
    upgrade(db, "0003")
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO deliveries (shop, source, received_at, headers, body, body_sha256, "
            "status) VALUES ('shop', 'webhook', '2026-03-14 10:00:00', '{}', :body, :sha, "
            "'received')"), {"body": b'{"id": 1}', "sha": "0" * 64})
    before = _storage_ids(db)

    upgrade(db)

    assert _storage_ids(db) == before
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT tries FROM deliveries")).scalars().all() == [0]
    upgrade(db, "0003")  # and back
    upgrade(db)
    db.dispose()


def test_alembic_check_reports_no_drift(db_url: str) -> None:
    """What `alembic check` says, through the project's own alembic.ini and env.py."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    db = Database(db_url)
    upgrade(db)
    db.dispose()
    root = Path(__file__).resolve().parents[2]
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    config.set_main_option("path_separator", "os")  # (alembic.ini predates the option)
    config.cmd_opts = type("Options", (), {"x": [f"url={db_url}"]})()  # alembic -x url=...
    command.check(config)  # raises if the models and the migrated schema differ
