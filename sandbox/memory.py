"""An in-memory invoicing service, shipped so the dispatcher (and users' own code) can be
tested without a network: it keeps invoices in a dict and can be scripted to fail.

    upstream = InMemoryUpstream()
    upstream.fail_next(UpstreamUnavailable("HTTP 503"), UpstreamTimeout("slow", ambiguous=True))
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.errors import UpstreamError
from bridge.mapping.draft import InvoiceDraft
from bridge.upstreams.base import InvoiceRef


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
            "lines": [[line.name, line.quantity, str(line.total)] for line in draft.lines],
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
