"""The fault switches every simulator offers: ``FaultRule`` (one queued fault of the control
API) and ``FaultInjector`` (the queue, held answers, interruptible sleeps).

Kinds: an HTTP error status ("500", "503", "429", "401", "403", "422", any 4xx or 5xx the
simulator's API can answer) is answered *instead of* processing the request, with the
service's own error envelope -- nothing is created; so are "reset" (the connection is reset)
and "gateway" (a gateway's HTML page). The AFTER kinds spoil the answer of a request that
was processed normally: held back ("slow"), never sent ("drop_after_create"), replaced by a
gateway page ("gateway_after_create"), an HTML page with 200 ("malformed") or nothing at all
("empty").
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Faults answered instead of processing the request (nothing is created); any other HTTP
#: error status a simulator knows is one too (``is_status_fault``).
BEFORE_FAULTS = ("500", "502", "503", "429", "401", "403", "422", "reset", "gateway")
#: the error statuses a simulator answers as faults unless it names its own
DEFAULT_STATUS_FAULTS = ("500", "502", "503", "429", "401", "403", "422")
_STATUS = re.compile(r"^[45][0-9][0-9]$")
#: Faults applied after the request was processed normally (an invoice exists if the
#: request was valid): the answer is late, missing or mangled.
AFTER_FAULTS = ("slow", "drop_after_create", "malformed", "empty", "gateway_after_create")
FAULT_KINDS = BEFORE_FAULTS + AFTER_FAULTS
#: A gateway or load balancer in front of the service answering with its own HTML page
#: (not the service's envelope): before the service saw the request, or after it acted.
GATEWAY_FAULTS = ("gateway", "gateway_after_create")
#: The status of a gateway page unless the rule says otherwise ("status").
DEFAULT_GATEWAY_STATUS = 502


@dataclass
class FaultRule:
    """One queued fault: fires on the next ``times`` put requests, or with ``probability``
    per put request from its own ``random.Random(seed)`` (at most ``times`` times if both
    are given). Without either it fires once."""

    kind: str
    times: int | None = None
    probability: float | None = None
    seed: int | None = None
    retry_after: int | None = None
    delay: float | None = None
    #: the HTTP status of a gateway page (gateway kinds only; 400-599, default 502)
    status: int | None = None
    applied: int = 0
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.kind = str(self.kind)  # 503 and "503" mean the same fault
        if self.kind not in FAULT_KINDS and not is_status_fault(self.kind):
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)} "
                             "or another HTTP error status")
        if self.times is not None and (isinstance(self.times, bool) or self.times < 1):
            raise ValueError("times must be a positive integer")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.delay is not None and self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.status is not None and self.kind not in GATEWAY_FAULTS:
            raise ValueError(f"status is only for the kinds {', '.join(GATEWAY_FAULTS)}")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if self.kind in GATEWAY_FAULTS and self.status is None:
            self.status = DEFAULT_GATEWAY_STATUS
        if self.times is None and self.probability is None:
            self.times = 1
        self._rng = random.Random(self.seed)

    @classmethod
    def from_json(cls, data: object) -> FaultRule:
        """Build a rule from the control API's JSON; raises ``ValueError`` with a reason."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault rule must be a JSON object")
        allowed = {"kind", "times", "probability", "seed", "retry_after", "delay", "status"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        if "kind" not in data:
            raise ValueError("a fault rule needs a kind")
        return cls(
            kind=str(data["kind"]),
            times=_optional(data, "times", _strict_int),
            probability=_optional(data, "probability", _number),
            seed=_optional(data, "seed", _strict_int),
            retry_after=_optional(data, "retry_after", _strict_int),
            delay=_optional(data, "delay", _number),
            status=_optional(data, "status", _strict_int),
        )

    def draws(self) -> bool:
        """Whether the rule wants to fire on this request. Probability rules draw on every
        put request (fired or not) so their pattern depends only on the seed."""
        if self.probability is None:
            return True
        return self._rng.random() < self.probability

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.applied >= self.times

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "status": self.status,
            "applied": self.applied,
        }


def is_status_fault(kind: str) -> bool:
    """An HTTP error status answered with the service's own error envelope."""
    return bool(_STATUS.match(kind))


def is_before_fault(kind: str) -> bool:
    """Answered instead of processing the request: nothing is created."""
    return kind in BEFORE_FAULTS or is_status_fault(kind)


class FaultInjector:
    """The queued faults of one simulator, and its sleeps: every method is thread-safe.

    A simulator's state derives from it and calls ``take_fault()`` once per request that
    could create something; ``hold()`` keeps an answer back ("slow") while
    ``held_orders()`` shows which order it belongs to, so a test can act while it knows a
    request is in flight (kill the worker that sent it)."""

    def __init__(self, statuses: Iterable[str] = DEFAULT_STATUS_FAULTS) -> None:
        #: the error statuses this simulator's API can answer, as fault kinds
        self.status_faults = frozenset(statuses)
        self._fault_lock = threading.RLock()
        self._faults: list[FaultRule] = []
        self._fault_counts: Counter[str] = Counter()
        # A generation counter lets stop()/reset() cut every pending sleep short.
        self._wake = threading.Condition()
        self._wake_generation = 0
        self._held: dict[int, tuple[object, float]] = {}  # hold number -> (order id, until)
        self._holds = itertools.count()

    def add_fault(self, kind: str, *, times: int | None = None,
                  probability: float | None = None, seed: int | None = None,
                  retry_after: int | None = None, delay: float | None = None,
                  status: int | None = None) -> FaultRule:
        rule = FaultRule(kind, times=times, probability=probability, seed=seed,
                         retry_after=retry_after, delay=delay, status=status)
        self.add_fault_rules([rule])
        return rule

    def add_fault_rules(self, rules: Iterable[FaultRule]) -> None:
        """Queue ``rules``, all or none: ``ValueError`` names a status this simulator's
        API never answers."""
        rules = list(rules)
        for rule in rules:
            if is_status_fault(rule.kind) and rule.kind not in self.status_faults:
                raise ValueError(f"kind {rule.kind} is not a status this service answers "
                                 f"(one of {', '.join(sorted(self.status_faults))})")
        with self._fault_lock:
            self._faults.extend(rules)

    def clear_faults(self) -> None:
        with self._fault_lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._fault_lock:
            return [rule.to_json() for rule in self._faults]

    def fault_counts(self) -> dict[str, int]:
        """How often each kind fired."""
        with self._fault_lock:
            return dict(self._fault_counts)

    def reset_faults(self) -> None:
        self.wake_sleepers()
        with self._fault_lock:
            self._faults.clear()
            self._fault_counts.clear()

    def take_fault(self) -> FaultRule | None:
        """Pick the fault for the request being handled (first firing rule in queue order)
        and count it. Exhausted rules leave the queue."""
        with self._fault_lock:
            chosen: FaultRule | None = None
            for rule in self._faults:
                # draws() before the check: every probability rule draws on every request,
                # chosen or not, so its pattern depends only on its seed.
                if rule.draws() and chosen is None:
                    chosen = rule
            if chosen is None:
                return None
            chosen.applied += 1
            self._fault_counts[chosen.kind] += 1
            self._faults = [rule for rule in self._faults if not rule.exhausted]
            return chosen

    def sleep(self, seconds: float) -> None:
        """Sleep, but return early when ``wake_sleepers()`` is called (server stopping)."""
        if seconds <= 0:
            return
        deadline = time.monotonic() + seconds
        with self._wake:
            generation = self._wake_generation
            while self._wake_generation == generation:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._wake.wait(remaining)

    def hold(self, order_id: object, seconds: float) -> None:
        """Hold an answer back (the "slow" fault); ``held_orders()`` shows it meanwhile."""
        with self._fault_lock:
            number = next(self._holds)
            self._held[number] = (order_id, time.monotonic() + seconds)
        try:
            self.sleep(seconds)
        finally:
            with self._fault_lock:
                del self._held[number]

    def held_orders(self, *, for_at_least: float = 0.0) -> list[Any]:
        """Order ids whose answers are being held back, for at least ``for_at_least`` more
        seconds."""
        horizon = time.monotonic() + for_at_least
        with self._fault_lock:
            return [order for order, until in self._held.values() if until >= horizon]

    def wake_sleepers(self) -> None:
        with self._wake:
            self._wake_generation += 1
            self._wake.notify_all()


def _optional(data: Mapping[str, Any], key: str, convert: Callable[[object, str], Any]) -> Any:
    value = data.get(key)
    return None if value is None else convert(value, key)


def _strict_int(value: object, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be an integer")


def _number(value: object, name: str) -> float:
    # Probabilities, delays and latencies are timing knobs, not money: float is fine here.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"{name} must be a number")
