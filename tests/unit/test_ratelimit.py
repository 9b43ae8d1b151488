"""Token buckets per upstream account, shared between live workers, blocked by 429."""

from __future__ import annotations

from bridge.dispatch.ratelimit import RateLimiter


class Time:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_burst_then_rate() -> None:
    t = Time()
    limiter = RateLimiter(monotonic=t.monotonic, sleep=t.sleep)
    for _ in range(5):
        assert limiter.acquire("acct", rate=2, burst=5) == 0
    waited = limiter.acquire("acct", rate=2, burst=5)
    assert 0.45 <= waited <= 0.55  # one token every 0.5 s at 2/s


def test_accounts_are_independent_and_zero_means_unlimited() -> None:
    t = Time()
    limiter = RateLimiter(monotonic=t.monotonic, sleep=t.sleep)
    limiter.acquire("a", rate=1, burst=1)
    assert limiter.acquire("b", rate=1, burst=1) == 0
    assert all(limiter.acquire("c", rate=0, burst=1) == 0 for _ in range(100))


def test_rate_is_shared_between_workers() -> None:
    t = Time()
    limiter = RateLimiter(monotonic=t.monotonic, sleep=t.sleep)
    limiter.share = 4
    limiter.acquire("acct", rate=4, burst=1)
    assert 0.95 <= limiter.acquire("acct", rate=4, burst=1) <= 1.05  # 4/s over 4 workers


def test_block_holds_the_account_until_retry_after() -> None:
    t = Time()
    limiter = RateLimiter(monotonic=t.monotonic, sleep=t.sleep)
    limiter.block("acct", 3.0)
    assert 2.9 <= limiter.acquire("acct", rate=100, burst=10) <= 3.6
