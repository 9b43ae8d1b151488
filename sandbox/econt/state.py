"""``SimulatorState``: the simulator's accounts, switches, queued faults, invoices and
counters, behind one lock; ``InvoiceRecord``, an invoice it "created"."""

from __future__ import annotations

import secrets
import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge.upstreams.econt.assumptions import (
    INVOICE_ID_FIELD,
    INVOICE_NUMBER_FIELD,
    INVOICE_ORDER_FIELD,
    REPEATED_ORDER_MODES,
    is_valid_key,
)
from sandbox.kit.faults import FaultInjector

#: The sandbox account every simulator knows unless told otherwise (md5-shaped, like the
#: real keys). Not a secret: it only opens this simulator.
DEMO_CLIENT_ID = "09bb12e1ece0e10b7b9374a205194160"
DEMO_TOKEN = "a694901e2d5e54bb05f168a889e83909"  # noqa: S105 -- public sandbox key

_REQUEST_LOG_SIZE = 1000


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


class SimulatorState(FaultInjector):
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
        super().__init__()
        # RLock: public methods call each other (stats() -> duplicates, etc.).
        self._lock = threading.RLock()
        self._accounts: set[tuple[str, str]] = set()
        self._repeated_order = "reject"
        self._check_totals = True
        self._latency = 0.0
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
        if latency is not None and (isinstance(latency, bool) or not latency >= 0):
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

    def add_account(self, client: object, token: object) -> None:
        if not (isinstance(client, str) and isinstance(token, str)
                and is_valid_key(client) and is_valid_key(token)):
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
                "faults": self.fault_counts(),
                "responses": dict(self._responses),
                "duplicates": len(duplicate_orders),
                "duplicate_orders": duplicate_orders,
                "pending_faults": len(self.faults()),
                "config": self.config(),
            }

    def reset(self) -> None:
        """Forget invoices, counters, the request log and queued faults. Accounts and the
        configuration stay (they describe the "server", not what happened to it)."""
        self.reset_faults()
        with self._lock:
            self._clear_records()
