"""A worker's ear on PostgreSQL: one dedicated connection that LISTENs and wakes the loop.

Whoever makes work due sends ``NOTIFY invoice_bridge`` in that same transaction
(``bridge.storage.notify``); this thread sets the worker's ``wake`` event for each
notification, so the worker claims within milliseconds instead of at its next poll.

The connection is psycopg's own, outside SQLAlchemy's pool (a pooled connection is checked
out and back, and LISTEN belongs to one session). When it breaks -- the database restarted,
the network dropped, an administrator ended it -- the worker says so in the log, counts it
(``invoice_bridge_worker_listen_lost_total``) and keeps working on its poll meanwhile; this
thread connects and LISTENs again with a doubling backoff and, once back, wakes the worker
once, for whatever was notified while nobody listened.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import psycopg
from sqlalchemy.engine import URL

from bridge import metrics
from bridge.storage.database import PG_CONNECT_ARGS
from bridge.storage.notify import CHANNEL

log = logging.getLogger(__name__)

#: how often the thread looks up from the connection to see whether the worker stops
TICK = 1.0
#: what the connection is called in ``pg_stat_activity``
APPLICATION_NAME = "invoice-bridge-listen"


class Listener:
    def __init__(self, url: URL, wake: threading.Event, stopping: threading.Event, *,
                 poll_interval: float, first_backoff: float = 0.5,
                 max_backoff: float = 30.0) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.wake = wake
        self.stopping = stopping
        self.poll_interval = poll_interval
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        #: set while LISTEN is in force on a live connection
        self.listening = threading.Event()
        #: how often the connection was lost (or could not be made)
        self.lost = 0

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="listen", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        backoff = 0.0
        lost_at: float | None = None
        while not self.stopping.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    # anything notified before this LISTEN (at start, or while the
                    # connection was down) was heard by nobody here: look once, now
                    self.wake.set()
                    if lost_at is not None:
                        log.info("listening for PostgreSQL notifications again", extra={
                            "channel": CHANNEL,
                            "lost_for_seconds": round(time.monotonic() - lost_at, 3)})
                    lost_at, backoff = None, 0.0
                    self._listen(connection)
            except Exception as exc:  # psycopg's errors, and anything else: never die
                self.listening.clear()
                if self.stopping.is_set():
                    break
                lost_at = lost_at if lost_at is not None else time.monotonic()
                backoff = min(self.max_backoff, max(self.first_backoff, backoff * 2))
                self.lost += 1
                metrics.listen_lost.inc()
                log.warning("not listening for PostgreSQL notifications; the worker polls "
                            "every poll_interval until it listens again", extra={
                                "channel": CHANNEL, "poll_interval": self.poll_interval,
                                "retry_in_seconds": backoff, "error": _first_line(exc)})
                self.stopping.wait(backoff)
        self.listening.clear()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.conninfo, autocommit=True,
                               application_name=APPLICATION_NAME, **PG_CONNECT_ARGS)

    def _listen(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        while not self.stopping.is_set():
            for _ in connection.notifies(timeout=TICK):
                self.wake.set()
        with contextlib.suppress(psycopg.Error):
            connection.execute(f"UNLISTEN {CHANNEL}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
