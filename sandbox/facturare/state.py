"""``FacturareState``: the simulated businesses (one per API key), their customers, invoices
and payments, the switches and the queued faults, behind one lock."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.upstreams.facturare import assumptions as facturare
from bridge.upstreams.facturare.settings import api_key_problem
from sandbox.facturare.checks import decimal
from sandbox.kit.faults import DEFAULT_STATUS_FAULTS, FaultInjector

#: The sandbox business every simulator knows unless told otherwise. Not a secret: it only
#: opens this simulator.
DEMO_API_KEY = "sandbox_demo_key_5f0c9d2e7a41b8c3"

#: The statuses a fault may answer with, facturare.md's error object in the body: those the
#: page lists, and -- "any request that did not succeed will return a 4xx or 5xx error" with
#: that object -- the other common ones.
STATUS_FAULTS = tuple(sorted({*DEFAULT_STATUS_FAULTS, "400", "404"}))

RESOURCES = ("customers", "invoices", "payments")
_REQUEST_LOG_SIZE = 1000


@dataclass(frozen=True)
class Stored:
    """An object the simulator holds, and the business (API key) it belongs to."""

    account: str
    obj: dict[str, Any]


class FacturareState(FaultInjector):
    """Everything the simulator knows; every method is safe to call from any thread."""

    def __init__(self, *, latency: float = 0.0, customer_faults: bool = True,
                 api_keys: Iterable[str] = (), include_demo_key: bool = True) -> None:
        super().__init__(STATUS_FAULTS)
        self._lock = threading.RLock()
        self._keys: set[str] = set()
        self._latency = 0.0
        self._customer_faults = True
        self._clear_records()
        self.configure(latency=latency, customer_faults=customer_faults)
        for key in [*([DEMO_API_KEY] if include_demo_key else []), *api_keys]:
            self.add_api_key(key)

    def _clear_records(self) -> None:
        self._objects: dict[str, dict[int, Stored]] = {name: {} for name in RESOURCES}
        self._ids = {name: itertools.count(1) for name in RESOURCES}
        self._numbers = itertools.count(1)
        self._counters: Counter[str] = Counter()
        self._rejects: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._log: deque[dict[str, Any]] = deque(maxlen=_REQUEST_LOG_SIZE)

    # --- switches and keys --------------------------------------------------------------

    @property
    def latency(self) -> float:
        return self._latency

    @property
    def customer_faults(self) -> bool:
        """Whether ``POST /customers`` takes queued faults like the other creates. The
        contract harness turns it off: its scenarios aim a fault at the invoice itself."""
        return self._customer_faults

    def configure(self, *, latency: float | None = None,
                  customer_faults: bool | None = None) -> dict[str, Any]:
        """Change switches; raises ``ValueError`` (and changes nothing) on a bad value."""
        if latency is not None and (isinstance(latency, bool)
                                    or not isinstance(latency, int | float) or latency < 0):
            raise ValueError("latency must be a number of seconds >= 0")
        if customer_faults is not None and not isinstance(customer_faults, bool):
            raise ValueError("customer_faults must be true or false")
        with self._lock:
            if latency is not None:
                self._latency = float(latency)
            if customer_faults is not None:
                self._customer_faults = customer_faults
            return self.config()

    def config(self) -> dict[str, Any]:
        with self._lock:
            return {"latency": self._latency, "customer_faults": self._customer_faults}

    def add_api_key(self, key: object) -> None:
        if not isinstance(key, str) or not key or api_key_problem(key):
            raise ValueError("an API key is a non-empty string without ':', spaces or "
                             "control characters")
        with self._lock:
            self._keys.add(key)

    def is_known(self, key: str) -> bool:
        with self._lock:
            return key in self._keys

    @property
    def api_keys(self) -> list[str]:
        with self._lock:
            return sorted(self._keys)

    # --- objects ------------------------------------------------------------------------

    def get(self, account: str, resource: str, object_id: object) -> dict[str, Any] | None:
        if not isinstance(object_id, int) or isinstance(object_id, bool):
            return None
        with self._lock:
            stored = self._objects[resource].get(object_id)
            return stored.obj if stored is not None and stored.account == account else None

    def listing(self, account: str, resource: str) -> list[dict[str, Any]]:
        """The business's objects of ``resource``, oldest first."""
        with self._lock:
            return [stored.obj for stored in self._objects[resource].values()
                    if stored.account == account]

    def all_objects(self, resource: str) -> list[Stored]:
        with self._lock:
            return list(self._objects[resource].values())

    def create_customer(self, account: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._store(account, "customers", "customer", {
                "metadata": {}, **body})

    def create_invoice(self, account: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """An invoice from a checked body, with the amounts the service computes
        ([ASSUMPTION] ``assumptions.line_amount``: per line quantity x unit cost, rounded;
        exclusive taxes on top)."""
        currency = body["currency"]
        items, subtotal, tax = [], Decimal(0), Decimal(0)
        for item in body["items"]:
            quantity, unit_cost = decimal(item["quantity"]), decimal(item["unit_cost"])
            assert quantity is not None and unit_cost is not None  # checked before
            amount = facturare.line_amount(quantity, unit_cost, currency)
            taxes = [{"object": "tax", "amount": decimal(t["amount"]),
                      "rate": decimal(t["rate"]) if "rate" in t else None,
                      "inclusive": t.get("inclusive", False)} for t in item.get("taxes", [])]
            subtotal += amount
            tax += sum((t["amount"] for t in taxes if not t["inclusive"]), Decimal(0))
            items.append({"object": "line_item", "name": item["name"], "quantity": quantity,
                          "unit_cost": unit_cost, "description": item.get("description"),
                          "taxes": taxes, "amount": amount})
        total = subtotal + tax
        with self._lock:
            return self._store(account, "invoices", "invoice", {
                "customer": body["customer"], "number": f"INV-{next(self._numbers):06d}",
                "currency": currency, "date": body.get("date", int(time.time())),
                "purchase_order": body.get("purchase_order"), "notes": body.get("notes"),
                "items": items, "subtotal": subtotal, "tax": tax, "total": total,
                "balance": total, "paid": False, "closed": False, "status": "not_sent",
                "metadata": dict(body.get("metadata", {}))})

    def create_payment(self, account: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A payment from a checked body; it lowers its invoice's balance."""
        amount = decimal(body["amount"])
        assert amount is not None  # checked before
        with self._lock:
            invoice = self._objects["invoices"][body["invoice"]].obj
            invoice["balance"] -= amount
            if invoice["balance"] <= 0:
                invoice["paid"], invoice["status"] = True, "paid"
            return self._store(account, "payments", "payment", {
                "customer": body["customer"], "invoice": body["invoice"], "amount": amount,
                "currency": body["currency"], "date": body.get("date", int(time.time())),
                "method": body.get("method", "other"), "reference": body.get("reference"),
                "notes": body.get("notes"), "metadata": dict(body.get("metadata", {}))})

    def _store(self, account: str, resource: str, kind: str,
               fields: dict[str, Any]) -> dict[str, Any]:
        object_id = next(self._ids[resource])
        obj = {"id": object_id, "object": kind, **fields, "created_at": int(time.time())}
        self._objects[resource][object_id] = Stored(account, obj)
        self._counters[f"{resource}_created"] += 1
        return obj

    # --- accounting ---------------------------------------------------------------------

    def note_request(self, *, write: bool) -> None:
        with self._lock:
            self._counters["requests"] += 1
            if write:
                self._counters["write_requests"] += 1

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
            per_order = Counter(
                (stored.account, stored.obj["metadata"].get(facturare.ORDER_KEY))
                for stored in self._objects["invoices"].values()
                if facturare.ORDER_KEY in stored.obj["metadata"])
            doubled = [{"account": account[:8] + "...", "order": key, "invoices": count}
                       for (account, key), count in per_order.items() if count > 1]
            return {
                "requests": self._counters["requests"],
                "write_requests": self._counters["write_requests"],
                **{f"{name}": len(self._objects[name]) for name in RESOURCES},
                "rejects": dict(self._rejects),
                "faults": self.fault_counts(),
                "responses": dict(self._responses),
                "duplicates": len(doubled),
                "duplicate_orders": doubled,
                "pending_faults": len(self.faults()),
                "config": self.config(),
            }

    def reset(self) -> None:
        """Forget every object, counter, logged request and queued fault; the API keys and
        switches stay (they describe the "server", not what happened to it)."""
        self.reset_faults()
        with self._lock:
            self._clear_records()

    def held_orders(self, *, for_at_least: float = 0.0) -> list[Any]:
        """Orders whose invoice answer is held back (a "slow" fault on ``POST /invoices``);
        a held customer or payment answer belongs to no order."""
        return [order for order in super().held_orders(for_at_least=for_at_least)
                if order is not None]
