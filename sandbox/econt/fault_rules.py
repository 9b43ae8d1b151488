"""Fault kinds and ``FaultRule``, one queued fault of the simulator's control API."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Faults answered instead of processing the request (nothing is created).
BEFORE_FAULTS = ("500", "502", "503", "429", "401", "403", "422", "reset", "gateway")
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
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
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
