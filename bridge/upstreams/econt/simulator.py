"""An offline imitation of e-Cont.md's put/invoice endpoint (api.diginet.md), for tests,
``invoice-bridge demo``, benchmarks and fault injection.

Run it with ``run_simulator()`` (background thread, for tests), ``serve_forever()`` (what
``invoice-bridge sandbox econt`` calls) or ``python -m bridge.upstreams.econt.simulator``.

What follows the vendor documentation (docs.e-cont.md, see /work/shared/research/econt.md):

- ``POST {base}/facturare/v1/put/invoice`` with a JSON body (``Content-Type:
  application/json``) made of ``connect`` + ``order`` + ``items``;
- credentials inside the body: ``connect.client`` (Client ID), ``connect.token`` (Token) and
  ``connect.language`` (ro, ru, en, ro-RO, ru-RU, en-US), called required in every request;
- the documented field names and types of ``order``, ``order.billing`` and ``items``;
  ``billing.email`` is the only field the docs mark as required; ``items`` is a JSON object
  keyed by strings holding integers; quantities are integers; dates are
  ``YYYY-MM-DD hh:mm:ss``; currencies are three-letter ISO 4217 codes, countries ISO 3166-1
  alpha-2;
- the ``{"status": "OK"|"FAIL", "data": {name, message, code, status}}`` envelope, the
  "Incorrect or missing API key" wording of 401, and Yii's "Invalid Route" 404 body.

What is our assumption (the shared ones live in ``assumptions.py`` and are imported, never
repeated here; the rest is simulator strictness chosen so adapter bugs show up early):

- keys are 32 lowercase hex characters; the success body (HTTP 200, ``data.invoice`` with
  the hash, number and order id); validation failures answer 400 with
  ``data.message = "path: reason; path: reason"``; Retry-After on 429; what a repeated
  ``order.id`` does (``repeated_order``: reject with 409 / return the existing invoice /
  create another one) -- all from ``assumptions.py``;
- order ids are unique per account (Client ID); the first invoice of an order is the one a
  duplicate refers to;
- ``order.id``, ``order_number``, ``amount``, ``currency``, ``date_created`` and ``billing``
  are required (an invoice cannot be issued without them); ``status`` and
  ``customer_note`` are optional (the docs give ``status`` a default). Per item,
  ``product_name``, ``product_price``, ``product_qnt`` and ``line_total`` are required;
  ``product_id``, ``product_sku`` and ``product_unit`` are optional (the docs' own example
  omits ``product_unit``);
- fields the docs do not define are rejected, documented string fields must be strings
  (not null), ``items`` must not be empty, ``order.amount`` must not be negative (line
  values may be, e.g. a discount or rounding line), duplicate JSON keys are refused;
- decimals are JSON numbers or strings like ``"554.30"`` (no exponent, comma or sign other
  than a leading minus), always read as ``Decimal``; with ``check_totals`` (default on)
  the line totals must add up to ``order.amount`` exactly -- the docs do not say e-Cont.md
  checks this;
- messages are English whatever ``connect.language`` says (the docs say errors follow it).

Everything under ``/_sandbox/`` is OUR control API (inspect invoices and stats, register
accounts, switch behaviours, queue faults); e-Cont.md has nothing like it:
``GET invoices[?order_id=&account=]``, ``GET stats``, ``GET requests`` (the last 1000
vendor requests), ``POST reset``, ``POST accounts {client, token}``, ``GET|POST config
{repeated_order, check_totals, latency}``, ``GET|POST|DELETE faults``.

Faults (queued rules; each put request takes at most one, the first firing rule in queue
order; ``{"kind": k, "times": n}`` fires on the next n puts, ``{"kind": k, "probability":
p, "seed": s}`` draws from its own ``random.Random(s)`` on every put, so the pattern
depends only on the seed; ``delay`` pauses first, ``retry_after`` adds Retry-After):

- before processing, nothing created: "500", "502", "503" (that status, FAIL envelope),
  "429" (plus Retry-After, default 1 s), "401" (the 401 envelope), "422" (FAIL envelope),
  "reset" (the request is read, then the TCP connection is reset: SO_LINGER 0 + close);
- after processing normally (an invoice exists if the request was valid and not a
  rejected repeat): "slow" (answer held back ``delay`` s, default 3), "drop_after_create"
  (connection closed with FIN, no answer), "malformed" (200 with an HTML error page),
  "empty" (200, JSON content type, no bytes).

Fault answers carry ``X-Sandbox-Fault: <kind>`` (ours) so captured traffic is readable.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import re
import secrets
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any, TypeGuard

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bridge.upstreams.econt.assumptions import (
    DATE_FORMAT,
    DATE_PATTERN,
    DUPLICATE_HTTP_STATUS,
    DUPLICATE_ORDER_CODE,
    EXISTING_FLAG,
    INVOICE_ID_FIELD,
    INVOICE_NUMBER_FIELD,
    INVOICE_ORDER_FIELD,
    LANGUAGES,
    PUT_INVOICE_PATH,
    REPEATED_ORDER_MODES,
    RETRY_AFTER_HEADER,
    STATUS_FAIL,
    STATUS_OK,
    SUCCESS_HTTP_STATUS,
    VALIDATION_HTTP_STATUS,
    is_valid_key,
)

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_TOKEN",
    "FAULT_KINDS",
    "SANDBOX_PREFIX",
    "FaultRule",
    "InvoiceRecord",
    "RunningSimulator",
    "SimulatorState",
    "add_arguments",
    "create_simulator_app",
    "main",
    "parse_account",
    "run_simulator",
    "serve_forever",
    "validate_invoice_request",
]

#: The sandbox account every simulator knows unless told otherwise (md5-shaped, like the
#: real keys). Not a secret: it only opens this simulator.
DEMO_CLIENT_ID = "09bb12e1ece0e10b7b9374a205194160"
DEMO_TOKEN = "a694901e2d5e54bb05f168a889e83909"  # noqa: S105 -- public sandbox key

#: Prefix of our control API; nothing under it exists at e-Cont.md.
SANDBOX_PREFIX = "/_sandbox"

#: Faults answered instead of processing the request (nothing is created).
_BEFORE_FAULTS = ("500", "502", "503", "429", "401", "422", "reset")
#: Faults applied after the request was processed normally (an invoice exists if the
#: request was valid): the answer is late, missing or mangled.
_AFTER_FAULTS = ("slow", "drop_after_create", "malformed", "empty")
FAULT_KINDS = _BEFORE_FAULTS + _AFTER_FAULTS

DEFAULT_RETRY_AFTER = 1
#: Long enough to outlast the short client timeouts tests use, short enough not to hang.
DEFAULT_SLOW_DELAY = 3.0

_JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
_UNAUTHORIZED_MESSAGE = "Incorrect or missing API key"  # [DOC] wording of the 401 line
#: Keys our request handler puts into the WSGI environ to let the app kill the connection.
_KILL_KEY = "econt_simulator.kill"
_KILL_HOOK_KEY = "econt_simulator.kill_hook"
_REQUEST_LOG_SIZE = 1000


# --- records and fault rules ------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceRecord:
    """An invoice the simulator "created"."""

    hash: str
    number: str
    order_id: int
    #: the Client ID that created it
    account: str
    #: the request body without connect.client / connect.token; JSON numbers that are not
    #: integers are kept as ``Decimal`` so the wire value is preserved exactly
    body: dict[str, Any]
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            INVOICE_ID_FIELD: self.hash,
            INVOICE_NUMBER_FIELD: self.number,
            INVOICE_ORDER_FIELD: self.order_id,
            "account": self.account,
            "created_at": self.created_at.isoformat(),
            "body": self.body,
        }


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
    applied: int = 0
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.kind = str(self.kind)  # 503 and "503" mean the same fault
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if self.times is not None and (_is_bool(self.times) or self.times < 1):
            raise ValueError("times must be a positive integer")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.delay is not None and self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.times is None and self.probability is None:
            self.times = 1
        self._rng = random.Random(self.seed)

    @classmethod
    def from_json(cls, data: object) -> FaultRule:
        """Build a rule from the control API's JSON; raises ``ValueError`` with a reason."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault rule must be a JSON object")
        allowed = {"kind", "times", "probability", "seed", "retry_after", "delay"}
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
            "applied": self.applied,
        }


def _optional(data: Mapping[str, Any], key: str, convert: Callable[[object, str], Any]) -> Any:
    value = data.get(key)
    return None if value is None else convert(value, key)


def _strict_int(value: object, name: str) -> int:
    if isinstance(value, int) and not _is_bool(value):
        return value
    raise ValueError(f"{name} must be an integer")


def _number(value: object, name: str) -> float:
    # Probabilities, delays and latencies are timing knobs, not money: float is fine here.
    if isinstance(value, int | float) and not _is_bool(value):
        return float(value)
    raise ValueError(f"{name} must be a number")


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


# --- state ------------------------------------------------------------------------------


class SimulatorState:
    """Everything the simulator knows; every method is safe to call from any thread."""

    def __init__(
        self,
        *,
        repeated_order: str = "reject",
        check_totals: bool = True,
        latency: float = 0.0,
        accounts: Iterable[tuple[str, str]] = (),
        include_demo_account: bool = True,
    ) -> None:
        # RLock: public methods call each other (stats() -> duplicates, etc.).
        self._lock = threading.RLock()
        self._accounts: set[tuple[str, str]] = set()
        self._repeated_order = "reject"
        self._check_totals = True
        self._latency = 0.0
        self._faults: list[FaultRule] = []
        # A generation counter lets stop()/reset() cut every pending sleep short.
        self._wake = threading.Condition()
        self._wake_generation = 0
        self._clear_records()
        self.configure(repeated_order=repeated_order, check_totals=check_totals, latency=latency)
        if include_demo_account:
            self.add_account(DEMO_CLIENT_ID, DEMO_TOKEN)
        for client, token in accounts:
            self.add_account(client, token)

    def _clear_records(self) -> None:
        self._invoices: list[InvoiceRecord] = []
        self._by_order: dict[tuple[str, int], list[InvoiceRecord]] = {}
        self._hashes: set[str] = set()
        self._sequence = 0
        self._counters: Counter[str] = Counter()
        self._rejects: Counter[str] = Counter()
        self._fault_counts: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._log: deque[dict[str, Any]] = deque(maxlen=_REQUEST_LOG_SIZE)

    # configuration

    @property
    def repeated_order(self) -> str:
        return self._repeated_order

    @repeated_order.setter
    def repeated_order(self, mode: str) -> None:
        self.configure(repeated_order=mode)

    @property
    def check_totals(self) -> bool:
        return self._check_totals

    @check_totals.setter
    def check_totals(self, value: bool) -> None:
        self.configure(check_totals=value)

    @property
    def latency(self) -> float:
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.configure(latency=seconds)

    def configure(
        self,
        *,
        repeated_order: str | None = None,
        check_totals: bool | None = None,
        latency: float | None = None,
    ) -> dict[str, Any]:
        """Change any of the switches; raises ``ValueError`` (and changes nothing) on a bad
        value. Returns the resulting configuration."""
        if repeated_order is not None and repeated_order not in REPEATED_ORDER_MODES:
            raise ValueError(f"repeated_order must be one of {', '.join(REPEATED_ORDER_MODES)}")
        if check_totals is not None and not isinstance(check_totals, bool):
            raise ValueError("check_totals must be true or false")
        if latency is not None and (_is_bool(latency) or not latency >= 0):
            raise ValueError("latency must be a number of seconds >= 0")
        with self._lock:
            if repeated_order is not None:
                self._repeated_order = repeated_order
            if check_totals is not None:
                self._check_totals = check_totals
            if latency is not None:
                self._latency = float(latency)
            return self.config()

    def config(self) -> dict[str, Any]:
        with self._lock:
            return {
                "repeated_order": self._repeated_order,
                "check_totals": self._check_totals,
                "latency": self._latency,
            }

    # accounts

    def add_account(self, client: str, token: str) -> None:
        if not (is_valid_key(client) and is_valid_key(token)):
            raise ValueError("client and token must be 32 lowercase hex characters")
        with self._lock:
            self._accounts.add((client, token))

    def is_known(self, client: object, token: object) -> bool:
        if not (isinstance(client, str) and isinstance(token, str)):
            return False
        with self._lock:
            return (client, token) in self._accounts

    @property
    def accounts(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._accounts)

    # faults

    def add_fault(
        self,
        kind: str,
        *,
        times: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> FaultRule:
        rule = FaultRule(kind, times=times, probability=probability, seed=seed,
                         retry_after=retry_after, delay=delay)
        self.add_fault_rules([rule])
        return rule

    def add_fault_rules(self, rules: Iterable[FaultRule]) -> None:
        with self._lock:
            self._faults.extend(rules)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self._faults]

    def take_fault(self) -> FaultRule | None:
        """Pick the fault for the put request being handled (first firing rule in queue
        order) and count it. Exhausted rules leave the queue."""
        with self._lock:
            chosen: FaultRule | None = None
            for rule in self._faults:
                if rule.draws() and chosen is None:
                    chosen = rule
            if chosen is None:
                return None
            chosen.applied += 1
            self._fault_counts[chosen.kind] += 1
            self._faults = [rule for rule in self._faults if not rule.exhausted]
            return chosen

    # invoices

    def record_invoice(
        self, account: str, order_id: int, body: dict[str, Any]
    ) -> tuple[InvoiceRecord, str]:
        """Create an invoice or apply the repeated-order mode, atomically (two concurrent
        puts of one order must not both create in "reject" mode).

        Returns the invoice and one of "created", "existing" (return_existing) or
        "duplicate" (reject; the invoice returned is the first one of the order)."""
        with self._lock:
            earlier = self._by_order.get((account, order_id))
            if earlier and self._repeated_order == "reject":
                self._rejects["duplicate"] += 1
                return earlier[0], "duplicate"
            if earlier and self._repeated_order == "return_existing":
                self._counters["existing_returned"] += 1
                return earlier[0], "existing"
            record = InvoiceRecord(
                hash=self._new_hash(),
                number=self._next_number(),
                order_id=order_id,
                account=account,
                body=body,
                created_at=datetime.now(UTC),
            )
            self._invoices.append(record)
            self._by_order.setdefault((account, order_id), []).append(record)
            self._counters["invoices_created"] += 1
            return record, "created"

    def _new_hash(self) -> str:
        while True:
            value = secrets.token_hex(16)
            if value not in self._hashes:
                self._hashes.add(value)
                return value

    def _next_number(self) -> str:
        self._sequence += 1
        return f"EC-{self._sequence:06d}"

    def invoices(self, *, order_id: int | None = None, account: str | None = None
                 ) -> list[InvoiceRecord]:
        with self._lock:
            return [
                record for record in self._invoices
                if (order_id is None or record.order_id == order_id)
                and (account is None or record.account == account)
            ]

    def invoice_count(self, order_id: int, account: str = DEMO_CLIENT_ID) -> int:
        with self._lock:
            return len(self._by_order.get((account, order_id), ()))

    # request accounting

    def note_request(self, *, put: bool) -> None:
        with self._lock:
            self._counters["requests"] += 1
            if put:
                self._counters["put_requests"] += 1

    def note_reject(self, reason: str) -> None:
        with self._lock:
            self._rejects[reason] += 1

    def note_response(self, entry: dict[str, Any]) -> None:
        with self._lock:
            status = entry.get("status")
            self._responses["none" if status is None else str(status)] += 1
            self._log.append(entry)

    def request_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            duplicate_orders = [
                {"account": account, "order_id": order_id, "invoices": len(records)}
                for (account, order_id), records in self._by_order.items()
                if len(records) > 1
            ]
            return {
                "requests": self._counters["requests"],
                "put_requests": self._counters["put_requests"],
                "invoices": len(self._invoices),
                "invoices_created": self._counters["invoices_created"],
                "existing_returned": self._counters["existing_returned"],
                "rejects": dict(self._rejects),
                "faults": dict(self._fault_counts),
                "responses": dict(self._responses),
                "duplicates": len(duplicate_orders),
                "duplicate_orders": duplicate_orders,
                "pending_faults": len(self._faults),
                "config": self.config(),
            }

    def reset(self) -> None:
        """Forget invoices, counters, the request log and queued faults. Accounts and the
        configuration stay (they describe the "server", not what happened to it)."""
        self.wake_sleepers()
        with self._lock:
            self._faults.clear()
            self._clear_records()

    # sleeping

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

    def wake_sleepers(self) -> None:
        with self._wake:
            self._wake_generation += 1
            self._wake.notify_all()


# --- validation -------------------------------------------------------------------------

_TOP_FIELDS = ("connect", "order", "items")
_CONNECT_FIELDS = ("client", "token", "language")
_ORDER_FIELDS = ("id", "order_number", "amount", "currency", "date_created", "status",
                 "customer_note", "billing")
_BILLING_FIELDS = ("id", "company", "idno", "idnp", "first_name", "last_name", "address_1",
                   "address_2", "city", "postcode", "country", "email", "phone")
_ITEM_FIELDS = ("product_id", "product_sku", "product_name", "product_price", "product_qnt",
                "product_unit", "line_total")

_DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_FISCAL_CODE = re.compile(r"^\d{13}$")  # [DOC S14] IDNO is 13 characters; IDNP likewise
_ITEM_KEY = re.compile(r"^\d+$")
# Plausible, not RFC 5322: one @, no spaces, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Problems:
    """Collects every violation, so one answer lists them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, reason: str) -> None:
        self.items.append(f"{path}: {reason}")

    def unknown_fields(self, obj: Mapping[str, Any], allowed: Sequence[str], prefix: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(f"{prefix}{key}", "unknown field")


def validate_invoice_request(body: object, *, check_totals: bool = True) -> list[str]:
    """Every "path: reason" violation of a put/invoice body, in document order; empty when
    the body is valid. Credentials are not checked here (that is a 401, not a 400)."""
    problems = _Problems()
    if not isinstance(body, Mapping):
        problems.add("body", "must be a JSON object")
        return problems.items
    problems.unknown_fields(body, _TOP_FIELDS, "")
    _check_connect(body.get("connect"), problems)
    amount = _check_order(body.get("order"), problems)
    line_sum = _check_items(body.get("items"), problems)
    if check_totals and amount is not None and line_sum is not None and line_sum != amount:
        problems.add("items", f"line totals add up to {line_sum}, order.amount is {amount}")
    return problems.items


def _check_connect(connect: object, problems: _Problems) -> None:
    if not isinstance(connect, Mapping):
        problems.add("connect", "is required and must be an object")
        return
    problems.unknown_fields(connect, _CONNECT_FIELDS, "connect.")
    if "language" not in connect:
        problems.add("connect.language", "is required")
    elif connect["language"] not in LANGUAGES:
        problems.add("connect.language", f"must be one of {', '.join(LANGUAGES)}")


def _check_order(order: object, problems: _Problems) -> Decimal | None:
    """Check ``order``; return its amount when readable (for the totals check)."""
    if not isinstance(order, Mapping):
        problems.add("order", "is required and must be an object")
        return None
    problems.unknown_fields(order, _ORDER_FIELDS, "order.")
    _require(order, "id", "order.", problems, _check_positive_int)
    _require(order, "order_number", "order.", problems, _check_nonempty_string)
    amount = _require(order, "amount", "order.", problems, _check_amount)
    _require(order, "currency", "order.", problems,
             _pattern_check(_CURRENCY, "must be a three-letter upper-case ISO 4217 code"))
    _require(order, "date_created", "order.", problems, _check_date)
    for name in ("status", "customer_note"):
        _optional_field(order, name, "order.", problems, _check_string)
    billing = order.get("billing")
    if billing is None:
        problems.add("order.billing", "is required")
    elif not isinstance(billing, Mapping):
        problems.add("order.billing", "must be an object")
    else:
        _check_billing(billing, problems)
    return amount


def _check_billing(billing: Mapping[str, Any], problems: _Problems) -> None:
    prefix = "order.billing."
    problems.unknown_fields(billing, _BILLING_FIELDS, prefix)
    _require(billing, "email", prefix, problems, _check_email)
    _optional_field(billing, "id", prefix, problems, _check_int)
    _optional_field(billing, "country", prefix, problems,
                    _blank_or(_COUNTRY, "must be a two-letter upper-case ISO 3166-1 code"))
    fiscal_code = _blank_or(_FISCAL_CODE, "must be 13 digits")
    for name in ("idno", "idnp"):
        _optional_field(billing, name, prefix, problems, fiscal_code)
    for name in ("company", "first_name", "last_name", "address_1", "address_2", "city",
                 "postcode", "phone"):
        _optional_field(billing, name, prefix, problems, _check_string)


def _check_items(items: object, problems: _Problems) -> Decimal | None:
    """Check ``items``; return the sum of line totals when every one is readable."""
    if items is None:
        problems.add("items", "is required")
        return None
    if isinstance(items, list):
        problems.add("items", "must be a JSON object keyed by line number, not an array")
        return None
    if not isinstance(items, Mapping):
        problems.add("items", "must be a JSON object keyed by line number")
        return None
    if not items:
        problems.add("items", "must contain at least one line")
        return None
    total: Decimal | None = Decimal(0)
    for key, item in items.items():
        line_total = _check_item(str(key), item, problems)
        total = None if total is None or line_total is None else total + line_total
    return total


def _check_item(key: str, item: object, problems: _Problems) -> Decimal | None:
    prefix = f"items.{key}."
    if not _ITEM_KEY.match(key):
        problems.add(f"items.{key}", "key must be a string holding an integer")
    if not isinstance(item, Mapping):
        problems.add(f"items.{key}", "must be an object")
        return None
    problems.unknown_fields(item, _ITEM_FIELDS, prefix)
    _optional_field(item, "product_id", prefix, problems, _check_non_negative_int)
    for name in ("product_sku", "product_unit"):
        _optional_field(item, name, prefix, problems, _check_string)
    _require(item, "product_name", prefix, problems, _check_nonempty_string)
    _require(item, "product_price", prefix, problems, _check_decimal)
    _require(item, "product_qnt", prefix, problems, _check_quantity)
    return _require(item, "line_total", prefix, problems, _check_decimal)


# Field checkers return (parsed value, reason); a reason means the value is invalid.
_Checker = Callable[[object], tuple[Any, str | None]]


def _require(obj: Mapping[str, Any], name: str, prefix: str, problems: _Problems,
             check: _Checker) -> Any:
    if name not in obj:
        problems.add(prefix + name, "is required")
        return None
    return _optional_field(obj, name, prefix, problems, check)


def _optional_field(obj: Mapping[str, Any], name: str, prefix: str, problems: _Problems,
                    check: _Checker) -> Any:
    if name not in obj:
        return None
    value, reason = check(obj[name])
    if reason is not None:
        problems.add(prefix + name, reason)
        return None
    return value


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(value: object) -> tuple[Any, str | None]:
    return (value, None) if _is_int(value) else (None, "must be an integer")


def _check_positive_int(value: object) -> tuple[Any, str | None]:
    if _is_int(value) and value > 0:
        return value, None
    return None, "must be a positive integer"


def _check_non_negative_int(value: object) -> tuple[Any, str | None]:
    if _is_int(value) and value >= 0:
        return value, None
    return None, "must be a non-negative integer"


def _check_quantity(value: object) -> tuple[Any, str | None]:
    if _is_int(value) and value >= 1:
        return value, None
    return None, "must be an integer >= 1"


def _check_string(value: object) -> tuple[Any, str | None]:
    return (value, None) if isinstance(value, str) else (None, "must be a string")


def _check_nonempty_string(value: object) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, "must be a string"
    return (value, None) if value.strip() else (None, "must not be empty")


def _check_email(value: object) -> tuple[Any, str | None]:
    if not isinstance(value, str) or not value:
        return None, "is required (the invoice is sent to this address)"
    return (value, None) if _EMAIL.match(value) else (None, "must be a valid e-mail address")


def _check_date(value: object) -> tuple[Any, str | None]:
    reason = "must be a real date written YYYY-MM-DD hh:mm:ss"
    if not isinstance(value, str) or not DATE_PATTERN.match(value):
        return None, reason
    try:
        return datetime.strptime(value, DATE_FORMAT), None
    except ValueError:
        return None, reason


def _pattern_check(pattern: re.Pattern[str], reason: str) -> _Checker:
    def check(value: object) -> tuple[Any, str | None]:
        if isinstance(value, str) and pattern.match(value):
            return value, None
        return None, reason

    return check


def _blank_or(pattern: re.Pattern[str], reason: str) -> _Checker:
    def check(value: object) -> tuple[Any, str | None]:
        if not isinstance(value, str):
            return None, "must be a string"
        return (value, None) if value == "" or pattern.match(value) else (None, reason)

    return check


def _as_decimal(value: object) -> Decimal | None:
    """A JSON number or a plain decimal string as ``Decimal``; None if neither."""
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        # Only for Python callers: bodies parsed here never hold floats. repr() is the
        # shortest text that round-trips, i.e. what JSON would have carried.
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and _DECIMAL_TEXT.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern already excludes it
            return None
    return None


def _check_decimal(value: object) -> tuple[Any, str | None]:
    parsed = _as_decimal(value)
    if parsed is None:
        return None, 'must be a decimal (a JSON number or a string like "554.30")'
    return parsed, None


def _check_amount(value: object) -> tuple[Any, str | None]:
    parsed, reason = _check_decimal(value)
    if reason is None and parsed < 0:
        return None, "must not be negative"
    return parsed, reason


# --- JSON in and out --------------------------------------------------------------------


def _parse_json(raw: bytes) -> Any:
    """Parse a request body; non-integer numbers become ``Decimal`` (never float)."""
    return json.loads(
        raw.decode("utf-8"),
        parse_float=Decimal,
        parse_constant=_reject_constant,
        object_pairs_hook=_unique_keys,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would silently keep the last of two equal keys -- e.g. lose an item line.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def _dumps(value: Any) -> str:
    """JSON text in which ``Decimal`` values are written as the numbers they were."""
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, Mapping):
        members = (f"{json.dumps(str(key))}:{_dumps(item)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(_dumps(payload), status=status, headers=dict(headers or {}),
                    content_type=_JSON_CONTENT_TYPE)


def _fail(status: int, message: str, *, code: int = 0, previous: dict[str, Any] | None = None,
          headers: Mapping[str, str] | None = None) -> Response:
    status = int(status)  # HTTPStatus members would otherwise leak into the JSON
    data: dict[str, Any] = {"name": HTTPStatus(status).phrase, "message": message,
                            "code": code, "status": status}
    if previous is not None:
        data["previous"] = previous
    return _json(status, {"status": STATUS_FAIL, "data": data}, headers)


def _unauthorized(headers: Mapping[str, str] | None = None) -> Response:
    return _fail(HTTPStatus.UNAUTHORIZED, _UNAUTHORIZED_MESSAGE, headers=headers)


def _invalid_route(path: str) -> Response:
    # [DOC S6] Yii2's stock answer for an unresolvable route.
    route = path.strip("/")
    previous = {"name": "Invalid Route",
                "message": f'Unable to resolve the request "{route}".', "code": 0}
    return _fail(HTTPStatus.NOT_FOUND, "Page not found.", previous=previous)


def _method_not_allowed() -> Response:
    message = "Method Not Allowed. This URL can only handle the following request methods: POST."
    return _fail(HTTPStatus.METHOD_NOT_ALLOWED, message, headers={"Allow": "POST"})


# --- the vendor endpoint ----------------------------------------------------------------


def _without_credentials(body: Mapping[str, Any]) -> dict[str, Any]:
    kept = dict(body)
    connect = body.get("connect")
    if isinstance(connect, Mapping):
        kept["connect"] = {k: v for k, v in connect.items() if k not in ("client", "token")}
    return kept


def _process_put(state: SimulatorState) -> Response:
    """Handle a put/invoice request exactly as the simulated service would."""
    if request.mimetype != "application/json":
        return _bad_request(state, "Content-Type must be application/json")
    try:
        body = _parse_json(request.get_data())
    except (UnicodeDecodeError, ValueError) as exc:
        return _bad_request(state, f"Invalid JSON data in request body: {exc}")
    if not isinstance(body, dict):
        return _bad_request(state, "The request body must be a JSON object")
    connect = body.get("connect")
    connect = connect if isinstance(connect, Mapping) else {}
    client, token = connect.get("client"), connect.get("token")
    if not state.is_known(client, token):
        state.note_reject("unauthorized")
        g.outcome = "unauthorized"
        return _unauthorized()
    problems = validate_invoice_request(body, check_totals=state.check_totals)
    if problems:
        state.note_reject("validation")
        g.outcome = "validation"
        return _fail(VALIDATION_HTTP_STATUS, "; ".join(problems))
    order_id = body["order"]["id"]
    g.order_id = order_id
    record, outcome = state.record_invoice(str(client), order_id, _without_credentials(body))
    g.outcome = outcome
    if outcome == "duplicate":
        message = (f"Order {order_id} already has invoice {record.number} "
                   f"({INVOICE_ID_FIELD} {record.hash})")
        return _fail(DUPLICATE_HTTP_STATUS, message, code=DUPLICATE_ORDER_CODE)
    return _invoice_answer(record, existing=outcome == "existing")


def _bad_request(state: SimulatorState, message: str) -> Response:
    state.note_reject("not_json")
    g.outcome = "not_json"
    return _fail(VALIDATION_HTTP_STATUS, message)


def _invoice_answer(record: InvoiceRecord, *, existing: bool) -> Response:
    # [ASSUMPTION, assumptions.py] the success body is undocumented.
    invoice: dict[str, Any] = {INVOICE_ID_FIELD: record.hash,
                               INVOICE_NUMBER_FIELD: record.number,
                               INVOICE_ORDER_FIELD: record.order_id}
    if existing:
        invoice[EXISTING_FLAG] = True
    data = {"code": 0, "status": SUCCESS_HTTP_STATUS,
            "message": "Invoice already exists" if existing else "Invoice created",
            "invoice": invoice}
    return _json(SUCCESS_HTTP_STATUS, {"status": STATUS_OK, "data": data})


# --- faults -----------------------------------------------------------------------------

_FAULT_HEADER = "X-Sandbox-Fault"  # ours, for people reading traffic; not e-Cont.md's
_FAULT_MESSAGES = {
    "500": "An internal server error occurred.",
    "502": "The upstream server returned an invalid response.",
    "503": "The service is temporarily unavailable.",
    "429": "Rate limit exceeded.",
    "422": "Data validation failed.",
}
_MANGLED_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body>"
    "<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)


def _answer_before(fault: FaultRule) -> Response:
    """The answer of a fault that replaces processing: nothing is created."""
    headers = {_FAULT_HEADER: fault.kind}
    if fault.kind == "reset":
        # Read (not process) the body first: the client is then waiting for the answer
        # when the RST arrives and sees ECONNRESET. Reset mid-upload, its send() may absorb
        # the RST and the client sees a plain EOF instead -- still an error, but vaguer.
        request.get_data()
        request.environ[_KILL_KEY] = "reset"
        return Response(status=500)  # never sent: the connection is reset instead
    if fault.kind == "401":
        return _unauthorized(headers)
    retry_after = fault.retry_after
    if fault.kind == "429" and retry_after is None:
        retry_after = DEFAULT_RETRY_AFTER
    if retry_after is not None:
        headers[RETRY_AFTER_HEADER] = str(retry_after)
    return _fail(int(fault.kind), _FAULT_MESSAGES[fault.kind], headers=headers)


def _answer_after(state: SimulatorState, fault: FaultRule, answer: Response) -> Response:
    """Spoil the answer of a request that was processed normally."""
    if fault.kind == "slow":
        state.sleep(DEFAULT_SLOW_DELAY if fault.delay is None else fault.delay)
        answer.headers[_FAULT_HEADER] = fault.kind
        return answer
    if fault.kind == "drop_after_create":
        request.environ[_KILL_KEY] = "drop"
        return answer  # never sent: the connection is closed instead
    headers = {_FAULT_HEADER: fault.kind}
    if fault.kind == "malformed":
        return Response(_MANGLED_PAGE, status=SUCCESS_HTTP_STATUS, headers=headers,
                        content_type="text/html; charset=UTF-8")
    # "empty": a JSON content type over no bytes at all
    return Response(b"", status=SUCCESS_HTTP_STATUS, headers=headers,
                    content_type=_JSON_CONTENT_TYPE)


def _put_invoice(state: SimulatorState) -> Response:
    if request.method != "POST":
        state.note_reject("method_not_allowed")
        g.outcome = "method_not_allowed"
        return _method_not_allowed()
    fault = state.take_fault()
    if fault is None:
        return _process_put(state)
    g.fault = fault.kind
    if fault.kind in _BEFORE_FAULTS:
        g.outcome = "fault"
        if fault.delay:
            state.sleep(fault.delay)
        return _answer_before(fault)
    return _answer_after(state, fault, _process_put(state))


# --- the control API (ours) -------------------------------------------------------------


def _control_error(message: str, status: int = 400) -> Response:
    return _json(status, {"error": message})


def _control_body() -> Any:
    return request.get_json(silent=True)


def _register_control_routes(app: Flask, state: SimulatorState) -> None:
    prefix = SANDBOX_PREFIX

    @app.get(f"{prefix}/invoices")
    def list_invoices() -> Response:
        order_id = request.args.get("order_id", type=int)
        account = request.args.get("account")
        records = state.invoices(order_id=order_id, account=account)
        return _json(200, {"count": len(records), "invoices": [r.to_json() for r in records]})

    @app.get(f"{prefix}/stats")
    def stats() -> Response:
        return _json(200, state.stats())

    @app.get(f"{prefix}/requests")
    def request_log() -> Response:
        return _json(200, {"requests": state.request_log()})

    @app.post(f"{prefix}/reset")
    def reset() -> Response:
        state.reset()
        return _json(200, state.stats())

    @app.post(f"{prefix}/accounts")
    def add_account() -> Response:
        body = _control_body()
        if not isinstance(body, dict):
            return _control_error("send {\"client\": ..., \"token\": ...}")
        try:
            state.add_account(body.get("client"), body.get("token"))
        except ValueError as exc:
            return _control_error(str(exc))
        return _json(201, {"client": body["client"], "registered": True})

    @app.route(f"{prefix}/config", methods=["GET", "POST"])
    def config() -> Response:
        if request.method == "GET":
            return _json(200, state.config())
        return _update_config(state, _control_body())

    @app.route(f"{prefix}/faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response:
        if request.method == "DELETE":
            state.clear_faults()
        elif request.method == "POST":
            error = _queue_faults(state, _control_body())
            if error:
                return _control_error(error)
        return _json(200, {"faults": state.faults()})


def _update_config(state: SimulatorState, body: object) -> Response:
    allowed = {"repeated_order", "check_totals", "latency"}
    if not isinstance(body, dict) or not set(body) <= allowed:
        return _control_error(f"send an object with any of: {', '.join(sorted(allowed))}")
    try:
        return _json(200, state.configure(**body))
    except (TypeError, ValueError) as exc:
        return _control_error(str(exc))


def _queue_faults(state: SimulatorState, body: object) -> str | None:
    """Queue one rule, a list of rules or {"faults": [...]}; all or nothing."""
    if isinstance(body, dict) and "faults" in body:
        body = body["faults"]
    rules_json = body if isinstance(body, list) else [body]
    try:
        rules = [FaultRule.from_json(item) for item in rules_json]
    except ValueError as exc:
        return str(exc)
    state.add_fault_rules(rules)
    return None


# --- the app ----------------------------------------------------------------------------


def _is_control_path(path: str) -> bool:
    return path.startswith(SANDBOX_PREFIX + "/")


def create_simulator_app(state: SimulatorState | None = None) -> Flask:
    """The simulator as a Flask app. ``app.extensions["econt_simulator"]`` is its state.

    The "reset" and "drop_after_create" faults need the connection itself: they work
    exactly under ``run_simulator()``/``serve_forever()``, best-effort under another
    werkzeug server, and not at all under the Flask test client."""
    state = state if state is not None else SimulatorState()
    app = Flask(__name__)
    app.extensions["econt_simulator"] = state
    app.wsgi_app = _ConnectionKiller(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def count_and_delay() -> None:
        if _is_control_path(request.path):
            return
        state.note_request(put=request.path == PUT_INVOICE_PATH and request.method == "POST")
        state.sleep(state.latency)

    @app.after_request
    def log_answer(response: Response) -> Response:
        if not _is_control_path(request.path):
            killed = request.environ.get(_KILL_KEY) is not None
            state.note_response({
                "at": datetime.now(UTC).isoformat(),
                "method": request.method,
                "path": request.path,
                "status": None if killed else response.status_code,
                "outcome": g.get("outcome", "ok" if response.status_code < 400 else "error"),
                "fault": g.get("fault"),
                "order_id": g.get("order_id"),
            })
        return response

    # All methods reach the view so a GET answers with the envelope, not Flask's page.
    app.add_url_rule(PUT_INVOICE_PATH, "put_invoice", lambda: _put_invoice(state),
                     methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                     provide_automatic_options=False)
    _register_control_routes(app, state)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if _is_control_path(request.path):
            return _control_error(exc.description or exc.name, status)
        if status == HTTPStatus.NOT_FOUND:
            state.note_reject("not_found")
            g.outcome = "not_found"
            return _invalid_route(request.path)
        return _fail(status, exc.description or exc.name)

    return app


# --- connection-level faults ------------------------------------------------------------


class _ConnectionKilled(ConnectionAbortedError):
    """Raised past Flask so werkzeug treats the exchange as a dropped connection and
    writes nothing."""


class _ConnectionKiller:
    """WSGI middleware: after the app ran, kill the connection if a fault asked for it."""

    def __init__(self, wsgi_app: Callable[..., Any]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = self.wsgi_app(environ, start_response)
        how = environ.get(_KILL_KEY)
        if how is None:
            return body
        if hasattr(body, "close"):
            body.close()
        hook = environ.get(_KILL_HOOK_KEY)
        if hook is not None:
            hook(how)
        else:
            _kill_foreign_socket(environ.get("werkzeug.socket"))
        raise _ConnectionKilled(how)


def _kill_foreign_socket(sock: socket.socket | None) -> None:
    """Best effort under a server that is not ours: an orderly close without an answer
    (a FIN, not an RST -- the descriptor is not ours to close)."""
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _SimulatorRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, plus a hook that really resets or closes the connection."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[_KILL_HOOK_KEY] = self._kill_connection
        return environ

    def _kill_connection(self, how: str) -> None:
        sock = self.connection
        with contextlib.suppress(OSError):  # the client may already be gone
            if how == "reset":
                # Linger on with a zero timeout: close() discards everything and sends RST.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                # Orderly FIN after the request was fully read: "closed without response".
                sock.shutdown(socket.SHUT_RDWR)
        self.close_connection = True
        # rfile holds a reference to the descriptor; close it so close() is the last one.
        self.rfile.close()
        sock.close()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not getattr(self.server, "simulator_quiet", False):
            super().log_request(code, size)


# --- running it -------------------------------------------------------------------------


class RunningSimulator:
    """A simulator served by werkzeug's threaded server on a background thread."""

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread,
                 state: SimulatorState, app: Flask) -> None:
        self.server = server
        self.thread = thread
        self.state = state
        self.app = app
        self.host = server.host
        self.port: int = server.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"

    @property
    def put_invoice_url(self) -> str:
        return self.url + PUT_INVOICE_PATH

    def stop(self) -> None:
        """Stop serving; requests still sleeping (slow, latency) are woken up."""
        self.state.wake_sleepers()
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_simulator(host: str = "127.0.0.1", port: int = 0, state: SimulatorState | None = None,
                  *, quiet: bool = True) -> RunningSimulator:
    """Start serving in a background thread; port 0 picks a free port (see ``.url``)."""
    state = state if state is not None else SimulatorState()
    app = create_simulator_app(state)
    try:
        server = make_server(host, port, app, threaded=True,
                             request_handler=_SimulatorRequestHandler)
    except SystemExit as exc:  # werkzeug exits the process when it cannot bind
        raise OSError(f"cannot listen on {host}:{port}") from exc
    server.simulator_quiet = quiet  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              name=f"econt-simulator-{server.port}", daemon=True)
    thread.start()
    return RunningSimulator(server, thread, state, app)


def parse_account(text: str) -> tuple[str, str]:
    """``"CLIENT:TOKEN"`` -> (client, token); raises ``ValueError`` if malformed."""
    client, sep, token = text.partition(":")
    if not sep or not (is_valid_key(client) and is_valid_key(token)):
        raise ValueError(f"expected CLIENT:TOKEN, two 32-hex keys, got {text!r}")
    return client, token


def serve_forever(
    port: int = 0,
    host: str = "127.0.0.1",
    repeated_order: str = "reject",
    accounts: Iterable[str | tuple[str, str]] = (),
    latency: float = 0.0,
    check_totals: bool = True,
    *,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve until Ctrl-C (or ``stop_event``), printing the URL and the demo account."""
    pairs = [parse_account(a) if isinstance(a, str) else a for a in accounts]
    state = SimulatorState(repeated_order=repeated_order, check_totals=check_totals,
                           latency=latency, accounts=pairs)
    stop_event = stop_event or threading.Event()
    with run_simulator(host, port, state, quiet=False) as sim:
        for line in _banner(sim):
            print(line, flush=True)
        try:
            while not stop_event.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("stopping", flush=True)


def _banner(sim: RunningSimulator) -> Iterator[str]:
    config = sim.state.config()
    yield f"e-Cont.md simulator listening on {sim.url}"
    yield f"  put invoice:  POST {sim.put_invoice_url}"
    yield f"  demo account: client {DEMO_CLIENT_ID}  token {DEMO_TOKEN}"
    others = [client for client, _ in sim.state.accounts if client != DEMO_CLIENT_ID]
    if others:
        yield f"  other accounts (client ids): {', '.join(others)}"
    yield (f"  repeated orders: {config['repeated_order']}; totals check: "
           f"{'on' if config['check_totals'] else 'off'}; latency: {config['latency']} s")
    yield f"  control API (ours, not e-Cont.md): {sim.url}{SANDBOX_PREFIX}/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``invoice-bridge sandbox econt``, for the CLI to reuse."""
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--repeated-order", choices=REPEATED_ORDER_MODES, default="reject",
                        help="what a repeated order.id does (undocumented at e-Cont.md)")
    parser.add_argument("--account", action="append", default=[], metavar="CLIENT:TOKEN",
                        help="register another account (repeatable)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds added to every request")
    parser.add_argument("--no-check-totals", action="store_true",
                        help="do not require the line totals to add up to order.amount")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="econt-simulator",
                                     description="Offline imitation of e-Cont.md put/invoice.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        accounts = [parse_account(text) for text in args.account]
    except ValueError as exc:
        parser.error(str(exc))
    serve_forever(args.port, args.host, args.repeated_order, accounts, args.latency,
                  not args.no_check_totals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
