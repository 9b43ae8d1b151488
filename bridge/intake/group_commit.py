"""Group commit: deliveries arriving together share one transaction and one fsync.

A durable commit costs a disk flush; under a burst, each request paying its own flush is what
limits ingest, and on SQLite the writers also queue for the single write lock (sleeping in
coarse steps while they wait). Here request threads hand their row to one committer thread
per process, which inserts everything waiting in one transaction. Each request still returns
only after *its* row is committed, so "stored before acknowledged" holds exactly as before.

A request that waits too long gives up and spools its delivery -- but only if the committer
has not taken its row yet: it withdraws the row first, atomically, so a late commit cannot
store the delivery a second time. A row the committer already took is in an INSERT that may
still commit; the request waits for that INSERT's result (bounded by the database's own
timeouts: SQLite's busy timeout, PostgreSQL's connection checks) and answers with it.

A statement the database refuses for one row (a value it cannot take) fails the whole
multi-row INSERT; the committer then inserts that batch's rows one by one, so only the
refused row's request spools.
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

from bridge.storage.failures import is_outage

#: a request waits at most this long for the committer to take its row; past it, the caller
#: spools (a row already taken is waited for: see the module's docstring)
WAIT_SECONDS = 30.0

_QUEUED, _TAKEN, _WITHDRAWN = "queued", "taken", "withdrawn"


@dataclass
class _Slot:
    values: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    row_id: int | None = None
    error: BaseException | None = None
    #: queued -> taken (by the committer) | withdrawn (by its request); changed under a lock
    state: str = _QUEUED


class GroupCommitter:
    def __init__(self, engine: Engine, statement: Insert, *, max_batch: int = 200,
                 gate: Callable[[], AbstractContextManager[Any]] = nullcontext,
                 wait_seconds: float = WAIT_SECONDS) -> None:
        self.engine = engine
        self.wait_seconds = wait_seconds
        self.gate = gate  # Database.write_gate: queue behind this process's other writers
        self.statement = statement
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: guards every slot's ``state``: taking and withdrawing must not interleave
        self._slots_lock = threading.Lock()
        self._untaken = 0  # slots queued, neither taken nor withdrawn
        # PostgreSQL: one INSERT is atomic by itself; see _insert()
        self._autocommit = engine.dialect.name == "postgresql"
        self._connection: Connection | None = None  # used by the committer thread only ...
        self._connection_lock = threading.Lock()  # ... and by close()
        self._served = 0  # batches committed on it

    def insert(self, values: dict[str, Any]) -> int:
        """Insert one row and return its id once it is committed; raises what the commit
        raised (a database error, or TimeoutError if the committer did not take the row in
        time -- then the row is withdrawn and will never be inserted)."""
        self._ensure_thread()
        slot = _Slot(values)
        with self._slots_lock:
            self._untaken += 1
        self._queue.put(slot)
        if not slot.done.wait(self.wait_seconds):
            with self._slots_lock:
                if slot.state == _QUEUED:
                    slot.state = _WITHDRAWN
                    self._untaken -= 1
                    raise TimeoutError("the database did not take the delivery in time")
            # Taken: its INSERT is running and may still commit. Spooling now would store
            # the delivery twice; its result comes when the database answers.
            slot.done.wait()
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
            with self._slots_lock:  # from here on its request waits for the result
                batch = [slot for slot in batch if slot.state == _QUEUED]
                for slot in batch:
                    slot.state = _TAKEN
                self._untaken -= len(batch)
            if batch:
                self._commit(batch)

    def close(self) -> None:
        """Close the kept connection (the database is being disposed); the next batch, if
        any, opens a new one."""
        with self._connection_lock:
            self._discard()

    def _commit(self, batch: list[_Slot]) -> None:
        with self._connection_lock:
            self._commit_locked(batch)

    def _commit_locked(self, batch: list[_Slot]) -> None:
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
            if len(batch) > 1 and isinstance(exc, Exception) and not is_outage(exc):
                # One row the database refuses must not spool the rows beside it.
                for slot in batch:
                    self._commit_locked([slot])
                return
            for slot in batch:
                slot.row_id, slot.error = None, exc
        for slot in batch:
            slot.done.set()

    @property
    def queued(self) -> int:
        """Rows handed in and not yet taken by the committer (nor withdrawn)."""
        with self._slots_lock:
            return self._untaken

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
