"""An in-memory invoicing service, shipped so the dispatcher (and users' own code) can be
tested without a network: it keeps invoices in a list and can be scripted to fail.

    upstream = InMemoryUpstream()
    upstream.fail_next(UpstreamUnavailable("HTTP 503"), UpstreamTimeout("slow", ambiguous=True))

``LookupInMemoryUpstream`` also has the optional ``find_invoice`` capability (it finds an
invoice by its order id), for the dispatcher's "look up before sending again" path.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bridge.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.mapping.draft import NO_RULES, DraftRules, InvoiceDraft
from bridge.upstreams.port import (
    ActionRef,
    CancelRequest,
    CorrectionRequest,
    InvoiceRef,
    PaymentRequest,
)
from sandbox.contract import Fault, Harness


@dataclass
class StoredInvoice:
    invoice_id: str
    order_id: int
    payload: dict[str, Any]


@dataclass
class InMemoryUpstream:
    kind: str = "memory"
    #: what a repeated order id does: "create_new" (the safe assumption, like an upstream
    #: whose behaviour is unknown) or "return_existing"
    repeated_order: str = "create_new"
    #: what mapping must refuse for it (e.g. an e-Cont.md stand-in takes EcontUpstream.rules)
    rules: DraftRules = NO_RULES
    invoices: list[StoredInvoice] = field(default_factory=list)
    calls: int = 0
    _failures: deque[tuple[UpstreamError, bool]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def dedupes_repeats(self) -> bool:
        return self.repeated_order == "return_existing"

    def fail_next(self, *errors: UpstreamError, after_create: bool = False) -> None:
        """Raise these on the next calls; ``after_create`` stores the invoice first (the
        "created, then the answer was lost" case)."""
        for error in errors:
            self._failures.append((error, after_create))

    def render(self, draft: InvoiceDraft) -> dict[str, Any]:
        return {
            "order_id": draft.order_id,
            "number": draft.order_number,
            "total": str(draft.total),
            "currency": draft.currency,
            "email": draft.buyer.email,
            "lines": [[line.name, str(line.quantity), str(line.total_gross)]
                      for line in draft.lines],
        }

    def create_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef:
        with self._lock:
            self.calls += 1
            failure = self._failures.popleft() if self._failures else None
            if failure and not failure[1]:
                raise failure[0]
            ref = self._store(dict(payload))
            if failure:
                raise failure[0]
            return ref

    def _store(self, payload: dict[str, Any]) -> InvoiceRef:
        order_id = int(payload["order_id"])
        existing = [i for i in self.invoices if i.order_id == order_id]
        if existing and self.repeated_order == "return_existing":
            return InvoiceRef(existing[0].invoice_id, existed=True, http_status=200)
        digest = hashlib.sha256(json.dumps([order_id, len(self.invoices)]).encode()).hexdigest()
        invoice = StoredInvoice(digest[:32], order_id, payload)
        self.invoices.append(invoice)
        return InvoiceRef(invoice.invoice_id, invoice_number=f"MEM-{len(self.invoices)}",
                          http_status=201)

    def check_credentials(self) -> str:
        return "in-memory upstream"

    def invoices_for(self, order_id: int) -> list[StoredInvoice]:
        return [i for i in self.invoices if i.order_id == order_id]

    def close(self) -> None:
        pass


@dataclass
class LookupInMemoryUpstream(InMemoryUpstream):
    """An in-memory service that can also be asked for the invoice of an order, and that
    takes the follow-up actions (payments, cancellations, corrections) -- each once per key,
    like a careful adapter over a real service."""

    lookups: int = 0
    payments: dict[str, PaymentRequest] = field(default_factory=dict)
    cancelled: dict[str, CancelRequest] = field(default_factory=dict)
    corrections: dict[str, CorrectionRequest] = field(default_factory=dict)
    _lookup_failures: deque[UpstreamError] = field(default_factory=deque)

    def _act(self, book: dict[str, Any], key: str, request: Any) -> ActionRef:
        with self._lock:
            self.calls += 1
            failure = self._failures.popleft() if self._failures else None
            if failure and not failure[1]:
                raise failure[0]
            existed = key in book
            book.setdefault(key, request)
            if failure:
                raise failure[0]
            return ActionRef(reference=f"MEM-{key}", existed=existed, http_status=201)

    def _found(self, book: dict[str, Any], key: str) -> ActionRef | None:
        with self._lock:
            return ActionRef(reference=f"MEM-{key}", existed=True) if key in book else None

    def record_payment(self, payment: PaymentRequest) -> ActionRef:
        return self._act(self.payments, payment.key, payment)

    def find_payment(self, payment: PaymentRequest) -> ActionRef | None:
        return self._found(self.payments, payment.key)

    def cancel_invoice(self, cancel: CancelRequest) -> ActionRef:
        return self._act(self.cancelled, cancel.key, cancel)

    def find_cancellation(self, cancel: CancelRequest) -> ActionRef | None:
        return self._found(self.cancelled, cancel.key)

    def correct_invoice(self, correction: CorrectionRequest) -> ActionRef:
        return self._act(self.corrections, correction.key, correction)

    def find_correction(self, correction: CorrectionRequest) -> ActionRef | None:
        return self._found(self.corrections, correction.key)

    def fail_lookup_next(self, *errors: UpstreamError) -> None:
        self._lookup_failures.extend(errors)

    def find_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef | None:
        with self._lock:
            self.lookups += 1
            if self._lookup_failures:
                raise self._lookup_failures.popleft()
            found = self.invoices_for(int(payload["order_id"]))
        if not found:
            return None
        return InvoiceRef(found[0].invoice_id, existed=True, http_status=200)


# --- the contract suite's stand-in (sandbox/contract.py) -------------------------------


def _memory_fault(fault: Fault, retry_after: int) -> tuple[UpstreamError, bool]:
    """The error an in-memory service raises for ``fault``, and whether it created the
    invoice first: what a well-behaved adapter makes of the real service's answer."""
    return {
        Fault.SERVER_ERROR: (UpstreamUnavailable("HTTP 500", http_status=500), False),
        Fault.GATEWAY_PAGE: (UpstreamUnavailable("HTTP 502 page", http_status=502,
                                                 ambiguous=True), False),
        Fault.RATE_LIMITED: (UpstreamRateLimited("HTTP 429", retry_after=retry_after), False),
        Fault.UNAUTHORIZED: (UpstreamAuthError("HTTP 401", http_status=401), False),
        Fault.FORBIDDEN: (UpstreamAuthError("HTTP 403", http_status=403), False),
        Fault.INVALID: (UpstreamRejected("HTTP 422: invalid", http_status=422), False),
        Fault.TIMEOUT: (UpstreamTimeout("no answer in time", ambiguous=True), True),
        Fault.DROP_AFTER_CREATE: (UpstreamConnectionError("connection lost",
                                                          ambiguous=True), True),
        Fault.UNREADABLE: (UpstreamBadResponse("HTTP 200 unreadable", http_status=200,
                                               ambiguous=True), True),
    }[fault]


@dataclass
class _RunningMemory:
    adapter: LookupInMemoryUpstream

    def inject(self, fault: Fault, *, retry_after: int = 7) -> None:
        error, after_create = _memory_fault(fault, retry_after)
        self.adapter.fail_next(error, after_create=after_create)

    def invoice_count(self, order_id: int) -> int:
        return len(self.adapter.invoices_for(order_id))


@contextmanager
def _start_memory() -> Iterator[_RunningMemory]:
    yield _RunningMemory(LookupInMemoryUpstream(repeated_order="return_existing"))


MEMORY_HARNESS = Harness(kind="memory", start=_start_memory)
