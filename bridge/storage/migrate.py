"""Alembic, driven from code: upgrade to head and tell whether a database is at head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

import migrations
from bridge.storage.database import Database, ensure_sqlite_folder

SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None if it was never migrated), read in a read-only
    transaction: /readyz asks on every probe, and must neither queue for SQLite's write lock
    (a plain connection here begins IMMEDIATE) nor log (alembic's MigrationContext logs two
    INFO lines each time it is set up)."""
    with db.read() as session:
        return revision_of(session.connection())


def revision_of(connection: Connection) -> str | None:
    """The revision in ``alembic_version``, on a connection the caller already holds."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return next(iter(versions), None)  # one row: this project's history has a single head


def is_at_head(db: Database) -> bool:
    return current_revision(db) == head_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on ``db`` (creates the SQLite file's folder)."""
    ensure_sqlite_folder(db.url)
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
