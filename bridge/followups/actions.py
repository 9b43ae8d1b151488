"""Per task kind: can an upstream do it, what request does a task become, send and look up."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from bridge.errors import InvariantBroken
from bridge.mapping.draft import InvoiceDraft
from bridge.storage.states import TaskKind
from bridge.upstreams.port import (
    ActionRef,
    CancelRequest,
    CancelsInvoices,
    CorrectionRequest,
    CorrectsInvoices,
    InvoiceUpstream,
    PaymentRequest,
    RecordsPayments,
)

#: the capability each kind needs
CAPABILITIES: Mapping[TaskKind, type] = {
    TaskKind.PAYMENT: RecordsPayments,
    TaskKind.CANCEL: CancelsInvoices,
    TaskKind.CORRECTION: CorrectsInvoices,
}

Request = PaymentRequest | CancelRequest | CorrectionRequest


def capable(upstream: InvoiceUpstream, kind: TaskKind) -> bool:
    return isinstance(upstream, CAPABILITIES[kind])


def request_for(kind: str, payload: Mapping[str, Any], invoice_id: str,
                draft: InvoiceDraft | None) -> Request:
    """The request a task's stored payload stands for."""
    if kind == TaskKind.PAYMENT:
        return PaymentRequest(
            invoice_id=invoice_id, amount=Decimal(payload["amount"]),
            currency=payload["currency"], paid_on=date.fromisoformat(payload["paid_on"]),
            key=payload["key"], method=payload.get("method", ""),
            method_title=payload.get("method_title", ""))
    if kind == TaskKind.CANCEL:
        return CancelRequest(invoice_id=invoice_id, key=payload["key"],
                             reason=payload.get("reason", ""))
    if kind == TaskKind.CORRECTION:
        if draft is None:
            raise InvariantBroken("a correction task was claimed without its order's draft")
        return CorrectionRequest(
            invoice_id=invoice_id, key=payload["key"], refund_id=int(payload["refund_id"]),
            amount=Decimal(payload["amount"]), currency=payload["currency"],
            reason=payload.get("reason", ""), draft=draft)
    raise InvariantBroken(f"unknown task kind {kind!r}")


def perform(upstream: InvoiceUpstream, request: Request) -> ActionRef:
    if isinstance(request, PaymentRequest) and isinstance(upstream, RecordsPayments):
        return upstream.record_payment(request)
    if isinstance(request, CancelRequest) and isinstance(upstream, CancelsInvoices):
        return upstream.cancel_invoice(request)
    if isinstance(request, CorrectionRequest) and isinstance(upstream, CorrectsInvoices):
        return upstream.correct_invoice(request)
    raise InvariantBroken(f"{type(upstream).__name__} cannot do {type(request).__name__}")


def find(upstream: InvoiceUpstream, request: Request) -> ActionRef | None:
    if isinstance(request, PaymentRequest) and isinstance(upstream, RecordsPayments):
        return upstream.find_payment(request)
    if isinstance(request, CancelRequest) and isinstance(upstream, CancelsInvoices):
        return upstream.find_cancellation(request)
    if isinstance(request, CorrectionRequest) and isinstance(upstream, CorrectsInvoices):
        return upstream.find_correction(request)
    raise InvariantBroken(f"{type(upstream).__name__} cannot look up {type(request).__name__}")


def needs_draft(kind: str) -> bool:
    return kind == TaskKind.CORRECTION


