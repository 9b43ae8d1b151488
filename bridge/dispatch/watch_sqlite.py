"""On SQLite, the nearest thing to LISTEN: a worker watches ``PRAGMA data_version``.

SQLite has no notifications between processes. What it has: any connection can ask whether
another connection has committed a change to the file since it last asked
(``PRAGMA data_version``, https://www.sqlite.org/pragma.html#pragma_data_version), and in WAL
mode the answer comes from the shared-memory index -- no write lock, no disk read. So a worker
keeps one connection that asks every ``INTERVAL`` (20 ms) and, when the answer changes,
sets the worker's ``wake`` event: a delivery stored by a web process beside it, a resync or
a resume from the command line, is claimed at once instead of at the next poll, and the
cost while nothing happens is one cheap statement per interval. It asks only while the
worker waits for work (its ``idle`` event): a busy worker looks for work after every turn
anyway, and a worker draining a backlog pays nothing for the watch. The worker's own commits
change the version too; that costs at most one turn that finds nothing.

This is still a poll, only a cheap and short one: the worker's full poll
(``dispatch.poll_interval``) takes the write lock for its claim, which would hold up the web
processes' commits if it ran every 20 ms. If the file cannot be read, the worker logs it
and keeps its full poll; the watcher tries again with a doubling backoff.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: how often the watcher asks SQLite whether another connection committed
INTERVAL = 0.02


class DataVersionWatcher:
    def __init__(self, path: Path, wake: threading.Event, stopping: threading.Event, *,
                 idle: threading.Event | None = None, interval: float = INTERVAL,
                 max_backoff: float = 30.0) -> None:
        self.path = path
        self.wake = wake
        self.stopping = stopping
        #: set while the worker waits for work; None: always watch
        self.idle = idle
        self.interval = interval
        self.max_backoff = max_backoff
        #: set while the watcher is watching
        self.listening = threading.Event()
        #: how often reading the file failed
        self.lost = 0

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="watch-sqlite", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        backoff = 0.0
        while not self.stopping.is_set():
            try:
                self._watch()
            except sqlite3.Error as exc:
                self.listening.clear()
                backoff = min(self.max_backoff, max(0.5, backoff * 2))
                self.lost += 1
                log.warning("cannot watch the SQLite file for changes; the worker polls "
                            "every poll_interval meanwhile", extra={
                                "retry_in_seconds": backoff, "error": str(exc)[:200]})
                self.stopping.wait(backoff)
            else:
                backoff = 0.0
        self.listening.clear()

    def _watch(self) -> None:
        # its own connection, never in a transaction: it only ever reads one pragma
        # mode=rw: never create a missing file (the bridge creates it, owner-only)
        connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=rw", uri=True,
                                     timeout=5, isolation_level=None, check_same_thread=False)
        try:
            seen = self._version(connection)
            self.listening.set()
            while not self.stopping.wait(self.interval):
                if self.idle is not None and not self.idle.wait(0.5):
                    continue  # busy: it will look for work anyway
                version = self._version(connection)
                if version != seen:
                    seen = version
                    self.wake.set()
        finally:
            with contextlib.suppress(sqlite3.Error):
                connection.close()

    @staticmethod
    def _version(connection: sqlite3.Connection) -> int:
        return int(connection.execute("PRAGMA data_version").fetchone()[0])
