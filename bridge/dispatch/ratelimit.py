"""Per-upstream-account rate limiting (token buckets), shared fairly between workers.

Each worker process keeps one bucket per upstream account. An account's configured rate is
divided by the number of live workers (from the heartbeat table), so four workers on one
PostgreSQL database together stay under the quota without a database write per request.
A 429 with Retry-After blocks the whole account in this process until that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float
    blocked_until: float = 0.0


class RateLimiter:
    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._sleep = sleep
        self.share = 1  # live workers sharing each account's quota

    def acquire(self, account: str, rate: float, burst: int,
                stop: threading.Event | None = None) -> float:
        """Wait until a request to ``account`` is allowed; returns the seconds waited."""
        if rate <= 0:
            return 0.0
        waited = 0.0
        while True:
            delay = self._try_take(account, rate / max(1, self.share), burst)
            if delay <= 0:
                return waited
            if stop is not None and stop.is_set():
                return waited
            self._sleep(min(delay, 0.5))
            waited += min(delay, 0.5)

    def _try_take(self, account: str, rate: float, burst: int) -> float:
        now = self._monotonic()
        with self._lock:
            bucket = self._buckets.get(account)
            if bucket is None:
                bucket = self._buckets[account] = _Bucket(tokens=float(burst), updated=now)
            if now < bucket.blocked_until:
                return bucket.blocked_until - now
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / rate

    def block(self, account: str, seconds: float) -> None:
        """The upstream said "slow down": hold every request to ``account`` for a while."""
        until = self._monotonic() + seconds
        with self._lock:
            bucket = self._buckets.setdefault(account, _Bucket(tokens=0.0, updated=until))
            if until > bucket.blocked_until:
                # Empty from the moment the block ends, refilling from there.
                bucket.blocked_until = bucket.updated = until
                bucket.tokens = 0.0
