"""A worker's heartbeat: its row in ``worker_heartbeats``, refreshed every few seconds.

Readiness reports the newest one; and every beat counts the live workers, because each
upstream account's rate limit is shared between them (``ratelimit.py``).
"""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta

from sqlalchemy import func, select

from bridge.clock import Clock
from bridge.dispatch.ratelimit import RateLimiter
from bridge.storage.database import Database
from bridge.storage.models import WorkerHeartbeat
from bridge.storage.repository import insert_ignoring_conflicts

HEARTBEAT_INTERVAL = 5.0
#: a worker whose heartbeat is older than this counts as gone (for rate-limit sharing)
HEARTBEAT_STALE = 30.0


class Heartbeat:
    def __init__(self, db: Database, worker_id: str, clock: Clock, limiter: RateLimiter) -> None:
        self.db = db
        self.worker_id = worker_id
        self.clock = clock
        self.limiter = limiter
        self._last = 0.0

    def beat(self, *, stopped: bool = False, force: bool = False) -> None:
        """Refresh the row (at most every HEARTBEAT_INTERVAL unless ``stopped``/``force``)."""
        now_mono = time.monotonic()
        if not (stopped or force) and now_mono - self._last < HEARTBEAT_INTERVAL:
            return
        self._last = now_mono
        now = self.clock.now()
        with self.db.transaction() as session:
            insert_ignoring_conflicts(session, WorkerHeartbeat, {
                "worker_id": self.worker_id, "hostname": socket.gethostname(),
                "pid": os.getpid(), "started_at": now, "heartbeat_at": now}, ["worker_id"])
            beat = session.get(WorkerHeartbeat, self.worker_id, with_for_update=True)
            if beat is not None:
                beat.heartbeat_at = now
                beat.stopped_at = now if stopped else None
            live = session.execute(
                select(func.count()).select_from(WorkerHeartbeat).where(
                    WorkerHeartbeat.stopped_at.is_(None),
                    WorkerHeartbeat.heartbeat_at > now - timedelta(seconds=HEARTBEAT_STALE))
            ).scalar_one()
        self.limiter.share = max(1, int(live))
