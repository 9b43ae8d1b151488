"""Engine and transactions for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite is set up for one writer and many readers: WAL journal, a busy timeout, and
``BEGIN IMMEDIATE`` for write transactions, so two writers queue on the lock instead of
failing with "database is locked" halfway through. Read-only work (``Database.read()``)
uses a deferred ``BEGIN`` and never takes the write lock. The webhook's writes are grouped
per process (``bridge.intake.group_commit``), which keeps writers few.

Within one process, SQLite write transactions also queue on a lock of ours (``write_gate``):
a thread that finds the database locked otherwise sleeps in SQLite's busy handler (1, 2, 5,
10 ... 100 ms steps) and may wake long after the lock is free; ours wakes the next thread at
once. Other processes still meet on SQLite's own lock and busy timeout.

The SQLite file holds buyers' names, addresses and e-mails, so the bridge creates it
owner-only (0600), and any folder it creates for it 0700. SQLite gives the ``-wal`` and
``-shm`` files the database file's permissions, so they are 0600 too. A database file that
already exists keeps its permissions; if others can read it, a warning says so.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from bridge.config.model import DatabaseSettings
from bridge.config.sections import normalise_database_url

_BEGIN_OPTION = "bridge_sqlite_begin"
FILE_MODE, FOLDER_MODE = 0o600, 0o700

log = logging.getLogger(__name__)

#: libpq settings of every PostgreSQL connection (see ``make_engine``; the workers' LISTEN
#: connections too, ``bridge.dispatch.listen``)
PG_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 30,
    "keepalives_interval": 10, "keepalives_count": 3, "tcp_user_timeout": 60_000,
}


def make_engine(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 5,
                **kwargs: Any) -> Engine:
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **kwargs)
        _configure_sqlite(engine, sqlite_synchronous, sqlite_file(url))
        return engine
    # A short connect timeout: when PostgreSQL is unreachable the webhook must fall back to the
    # spool well within WooCommerce's 60 s, not hang. Keepalives and tcp_user_timeout make a
    # silently vanished server (a network partition) an error within about a minute instead
    # of a call that waits forever.
    kwargs.setdefault("connect_args", dict(PG_CONNECT_ARGS))
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size,
                         pool_timeout=10, **kwargs)


def _configure_sqlite(engine: Engine, synchronous: str, path: Path | None) -> None:
    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        # SQLite would create a missing file 0644 (world-readable); create it first, 0600.
        # A missing folder is left to fail as before (migrate creates it).
        if path is not None and not path.exists() and path.parent.is_dir():
            _create_private_file(path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own implicit
        # BEGIN is deferred and would upgrade to a write lock too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL, in-memory and ``file:`` URI names)."""
    parsed = make_url(normalise_database_url(url))
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or name in (None, "", ":memory:") or (
            name.startswith("file:")):
        return None
    return Path(name)


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file (SQLite creates the file, not its folder),
    so that migrating a fresh checkout's default ``var/invoice-bridge.db`` just works; every
    folder created 0700, the file 0600. Warns if an existing file is readable by others."""
    path = sqlite_file(url)
    if path is None:
        return
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        # one at a time: mkdir(parents=True) gives the parents the umask's mode, not ours
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
    if not path.exists():
        _create_private_file(path)
    elif stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("the database file is readable by other users; make it owner-only with "
                    "chmod 600 (and its -wal and -shm files)",
                    extra={"path": str(path), "mode": oct(stat.S_IMODE(path.stat().st_mode))})


def _create_private_file(path: Path) -> None:
    """An empty file only its owner can read (SQLite takes an empty file as a new database)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


class Database:
    """An engine plus the two kinds of transaction the code uses."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 5,
                 **engine_kwargs: Any) -> None:
        self.url = normalise_database_url(url)
        self.engine = make_engine(self.url, sqlite_synchronous=sqlite_synchronous,
                                  pool_size=pool_size, **engine_kwargs)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"}),
                                    expire_on_commit=False)
        # Re-entrant: a write transaction opened inside another on the same thread fails on
        # SQLite's lock exactly as before, it does not hang on ours.
        self._write_gate = threading.RLock() if self.dialect == "sqlite" else None
        #: connections kept outside the pool (the group committer's), closed on dispose
        self._on_dispose: list[Callable[[], None]] = []

    @classmethod
    def from_settings(cls, settings: DatabaseSettings, **kwargs: Any) -> Database:
        return cls(settings.url, sqlite_synchronous=settings.sqlite_synchronous, **kwargs)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def session(self) -> Session:
        """A write-capable session; the caller commits (Flask closes it on teardown)."""
        return self._writer()

    def reader_session(self) -> Session:
        """A session for reading only (deferred BEGIN on SQLite)."""
        return self._reader()

    def write_gate(self) -> AbstractContextManager[Any]:
        """Hold this around a write transaction that does not go through ``transaction()``."""
        return self._write_gate if self._write_gate is not None else nullcontext()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back on error."""
        with self.write_gate(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction that never blocks writers."""
        with self._reader() as session, session.begin():
            yield session

    def on_dispose(self, close: Callable[[], None]) -> None:
        """Call ``close`` when the database is disposed (for a connection held outside the
        pool, which ``Engine.dispose`` does not close)."""
        self._on_dispose.append(close)

    def dispose(self) -> None:
        for close in self._on_dispose:
            close()
        self._on_dispose.clear()
        self.engine.dispose()
