"""Retry policy: exponential bounds, jitter, caps, attempts and age limits, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bridge.config.model import RetrySettings
from bridge.dispatch.retry import RetryPolicy

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("retry", "bound"), [(1, 30), (2, 120), (3, 480), (4, 1920),
                                               (5, 7680), (6, 30720), (7, 43200), (12, 43200)])
def test_default_bounds_grow_by_factor_and_cap(retry: int, bound: float) -> None:
    assert RetryPolicy(RetrySettings()).upper_bound(retry) == bound


def test_explicit_schedule_repeats_its_last_value() -> None:
    policy = RetryPolicy(RetrySettings(schedule=(5, 300, 1800)))
    assert [policy.upper_bound(n) for n in (1, 2, 3, 4, 9)] == [5, 300, 1800, 1800, 1800]


def test_full_jitter_spreads_over_zero_to_bound() -> None:
    policy = RetryPolicy(RetrySettings(jitter="full"), rng=random.Random(7))
    delays = [policy.delay(3) for _ in range(2000)]
    assert all(0 <= d <= 480 for d in delays)
    assert min(delays) < 48 and max(delays) > 432  # uses the whole range


def test_equal_and_no_jitter() -> None:
    equal = RetryPolicy(RetrySettings(jitter="equal"), rng=random.Random(1))
    assert all(240 <= equal.delay(3) <= 480 for _ in range(500))
    assert RetryPolicy(RetrySettings(jitter="none")).delay(3) == 480


def test_retry_after_is_a_floor() -> None:
    policy = RetryPolicy(RetrySettings(jitter="full"), rng=random.Random(3))
    assert all(policy.delay(1, retry_after=90) >= 90 for _ in range(100))


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(RetrySettings(max_attempts=3, jitter="none"))
    assert policy.decide(attempts=2, first_attempt_at=NOW, now=NOW).retry
    decision = policy.decide(attempts=3, first_attempt_at=NOW, now=NOW)
    assert not decision.retry and "gave up after 3 attempts" in decision.reason


def test_gives_up_when_the_next_try_would_pass_max_age() -> None:
    policy = RetryPolicy(RetrySettings(max_age=3600, jitter="none"))
    first = NOW - timedelta(minutes=50)
    assert policy.decide(attempts=1, first_attempt_at=first, now=NOW).retry  # +30 s is fine
    assert policy.decide(attempts=3, first_attempt_at=first, now=NOW).retry  # +8 min: 58 min
    decision = policy.decide(attempts=4, first_attempt_at=first, now=NOW)  # +32 min passes 1 h
    assert not decision.retry and "max_age 1.0h" in decision.reason


def test_throttling_does_not_count_attempts_but_respects_age() -> None:
    policy = RetryPolicy(RetrySettings(max_attempts=2, max_age=600, jitter="none"))
    throttled = policy.decide(attempts=5, first_attempt_at=NOW, now=NOW, retry_after=60,
                              count_attempts=False)
    assert throttled.retry and throttled.delay == 60
    assert not policy.decide(attempts=5, first_attempt_at=NOW - timedelta(seconds=590), now=NOW,
                             retry_after=60, count_attempts=False).retry
