"""The SQLite files hold buyers' personal data: created owner-only, on real files."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bridge.storage.database import Database
from bridge.storage.migrate import upgrade


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common umask 022, under which SQLite itself would create 0644 files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_migrate_creates_the_folders_and_files_owner_only(tmp_path: Path,
                                                          open_umask: None) -> None:
    path = tmp_path / "var" / "data" / "bridge.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.transaction() as session:  # a write, so that the WAL exists
        session.execute(text("CREATE TABLE probe (x INTEGER)"))
    files = [path, path.with_name("bridge.db-wal"), path.with_name("bridge.db-shm")]
    assert all(file.exists() for file in files)
    assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    db.dispose()


def test_a_database_opened_without_migrating_is_created_owner_only(
        tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "bridge.db"
    db = Database(f"sqlite:///{path}")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE probe (x INTEGER)"))
    assert mode(path) == 0o600 and mode(path.with_name("bridge.db-wal")) == 0o600
    db.dispose()


def test_an_existing_readable_file_is_left_alone_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bridge.db"
    path.touch()
    path.chmod(0o644)
    db = Database(f"sqlite:///{path}")
    with caplog.at_level(logging.WARNING, logger="bridge.storage.database"):
        upgrade(db)
    assert mode(path) == 0o644  # an operator may have chosen it (a backup user's group)
    assert "chmod 600" in caplog.text
    db.dispose()
