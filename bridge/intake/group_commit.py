"""Group commit: deliveries arriving together share one transaction and one fsync.

A durable commit costs a disk flush; under a burst, each request paying its own flush is what
limits ingest, and on SQLite the writers also queue for the single write lock (sleeping in
coarse steps while they wait). Here request threads hand their row to one committer thread
per process, which inserts everything waiting in one transaction. Each request still returns
only after *its* row is committed, so "stored before acknowledged" holds exactly as before.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Insert

#: a request waits at most this long for the committer; past it, the caller spools
WAIT_SECONDS = 30.0


@dataclass
class _Slot:
    values: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    row_id: int | None = None
    error: BaseException | None = None


class GroupCommitter:
    def __init__(self, engine: Engine, statement: Insert, *, max_batch: int = 200,
                 gate: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        self.engine = engine
        self.gate = gate  # Database.write_gate: queue behind this process's other writers
        self.statement = statement
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # PostgreSQL: one INSERT is atomic by itself; see _insert()
        self._autocommit = engine.dialect.name == "postgresql"
        self._connection: Connection | None = None  # used by the committer thread only
        self._served = 0  # batches committed on it

    def insert(self, values: dict[str, Any]) -> int:
        """Insert one row and return its id once it is committed; raises what the commit
        raised (a database error, or TimeoutError if the committer is stuck)."""
        self._ensure_thread()
        slot = _Slot(values)
        self._queue.put(slot)
        if not slot.done.wait(WAIT_SECONDS):
            raise TimeoutError("the database did not commit the delivery in time")
        if slot.error is not None:
            raise slot.error
        assert slot.row_id is not None
        return slot.row_id

    def _ensure_thread(self) -> None:
        # Started on first use, so a forking server (gunicorn) gets one per worker process.
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="group-commit",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Slot]) -> None:
        rows = [slot.values for slot in batch]
        try:
            with self.gate():
                try:
                    ids = self._insert(rows)
                except DBAPIError as exc:
                    # A kept connection the server dropped while idle (a restart, a proxy's
                    # timeout) fails before anything is stored: try once on a fresh one.
                    if not (exc.connection_invalidated and self._discard()):
                        raise
                    ids = self._insert(rows)
            for slot, row_id in zip(batch, ids, strict=True):
                slot.row_id = row_id
        except BaseException as exc:  # every waiter learns of it and spools
            self._discard()
            for slot in batch:
                slot.row_id, slot.error = None, exc
        for slot in batch:
            slot.done.set()

    def _insert(self, rows: list[dict[str, Any]]) -> list[int]:
        """One multi-row INSERT ... RETURNING, ids in the order of ``rows``, on a connection
        the committer keeps (no pool checkout and ping per batch). On PostgreSQL it runs in
        autocommit: a single statement is atomic by itself, and BEGIN and COMMIT would be two
        more round trips. SQLite keeps its BEGIN IMMEDIATE transaction."""
        if self._connection is None:
            connection = self.engine.connect()
            if self._autocommit:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            self._connection, self._served = connection, 0
        connection = self._connection
        if self._autocommit:
            ids = list(connection.execute(self.statement, rows).scalars().all())
            connection.commit()  # ends SQLAlchemy's autobegun block; the server already did
        else:
            with connection.begin():
                ids = list(connection.execute(self.statement, rows).scalars().all())
        self._served += 1
        return ids

    def _discard(self) -> bool:
        """Drop the kept connection; True if it had served batches before (so went stale)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return False
        with contextlib.suppress(Exception):
            connection.invalidate()
            connection.close()
        return self._served > 0
