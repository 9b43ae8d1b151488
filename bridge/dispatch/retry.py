"""When to retry: exponential backoff with jitter, like the webhook senders we admire.

Svix retries 8 times over ~27 h; Standard Webhooks recommends exponential backoff with
jitter; AWS's "full jitter" (sleep = random(0, min(cap, base * factor**n))) spreads a herd of
rows that all failed in the same outage so they do not all come back at the same instant.
The default (base 30 s, factor 4, cap 12 h, 8 attempts, max age 3 days) gives upper bounds of
30 s, 2 m, 8 m, 32 m, 2.1 h, 8.5 h, 12 h between the 8 attempts: about a day in the worst case.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.config.model import RetrySettings


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay: float = 0.0
    reason: str = ""


class RetryPolicy:
    def __init__(self, settings: RetrySettings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.rng = rng or random.Random()

    def upper_bound(self, retry_number: int) -> float:
        """The longest wait before retry ``retry_number`` (1 = the first retry)."""
        s = self.settings
        if s.schedule:
            return s.schedule[min(retry_number, len(s.schedule)) - 1]
        return min(s.cap, s.base * s.factor ** (retry_number - 1))

    def delay(self, retry_number: int, *, retry_after: float | None = None) -> float:
        bound = self.upper_bound(retry_number)
        match self.settings.jitter:
            case "full":
                delay = self.rng.uniform(0, bound)
            case "equal":
                delay = bound / 2 + self.rng.uniform(0, bound / 2)
            case _:
                delay = bound
        # The upstream's own Retry-After is a floor: asking earlier only earns another 429.
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def decide(self, *, attempts: int, first_attempt_at: datetime | None, now: datetime,
               retry_after: float | None = None, count_attempts: bool = True) -> RetryDecision:
        """After ``attempts`` failed attempts, retry or give up? Throttling (429) passes
        ``count_attempts=False``: only the maximum age can end it."""
        s = self.settings
        if count_attempts and attempts >= s.max_attempts:
            return RetryDecision(False, reason=f"gave up after {attempts} attempts")
        if count_attempts:
            delay = self.delay(max(1, attempts), retry_after=retry_after)
        else:  # throttled: the upstream said when; otherwise a short first-retry wait
            delay = retry_after if retry_after is not None else self.delay(1)
        if first_attempt_at is not None:
            age = now - first_attempt_at
            if age + timedelta(seconds=delay) > timedelta(seconds=s.max_age):
                return RetryDecision(
                    False, reason=f"gave up after {attempts} attempts over {_human(age)} "
                    f"(max_age {_human(timedelta(seconds=s.max_age))})")
        return RetryDecision(True, delay=delay)


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds}s"
