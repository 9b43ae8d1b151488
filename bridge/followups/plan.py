"""Which follow-up tasks an order's snapshot calls for (run by the intake, in the snapshot's
transaction).

- **Paid.** An order with ``date_paid_gmt`` whose status creates invoices gets one payment
  task (key "paid") when the shop records payments and its upstream can. It is due at once
  but claimed only once the order's invoice exists.
- **Refunded.** Each refund gets one correction task (key "refund:<id>"): due when the shop's
  ``after_cancel`` is "correct" and the upstream can correct invoices, else in ``review``
  with the reason -- and the order's row goes to review as any change after invoicing does.
- **Cancelled** (or fully refunded) after invoicing: with ``after_cancel = "cancel"`` one
  cancel task (key "cancel"); with "correct", the refunds' corrections, or one correction
  for the whole amount (key "cancelled") when nothing was refunded; otherwise -- or when the
  upstream cannot -- the order's row goes to review, as before tasks existed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import lifecycle
from bridge.config.model import ShopSettings
from bridge.followups.actions import capable
from bridge.mapping.draft import InvoiceDraft
from bridge.storage.models import OrderSync, OrderTask
from bridge.storage.repository import add_event, insert_ignoring_conflicts
from bridge.storage.states import TaskKind, TaskState
from bridge.upstreams.port import InvoiceUpstream

#: statuses that mean the order was called off
CANCELLED_STATUSES = ("cancelled", "refunded")


def plan_paid_and_refunded(session: Session, row: OrderSync, shop: ShopSettings,
                           upstream: InvoiceUpstream, draft: InvoiceDraft,
                           now: datetime) -> None:
    """Tasks for an invoiceable snapshot: its payment, and its refunds after invoicing."""
    if draft.paid_at is not None and shop.record_payments and capable(upstream,
                                                                      TaskKind.PAYMENT):
        _ensure(session, row, TaskKind.PAYMENT, "paid", {
            "amount": str(draft.total), "currency": draft.currency,
            "paid_on": draft.paid_at.astimezone(shop.mapping.zone).date().isoformat(),
            "key": f"{shop.id}:{row.order_id}", "method": draft.payment_method,
            "method_title": draft.payment_method_title}, now, why="the order was paid")
    new = [refund for refund in draft.refunds
           if not _exists(session, row, TaskKind.CORRECTION, f"refund:{refund.refund_id}")]
    if not new or row.synced_hash is None:  # refunds before invoicing: the invoice shows it
        return
    correct = shop.after_cancel == "correct" and capable(upstream, TaskKind.CORRECTION)
    for refund in new:
        _ensure(session, row, TaskKind.CORRECTION, f"refund:{refund.refund_id}", {
            "key": f"{shop.id}:{row.order_id}:{refund.refund_id}",
            "refund_id": refund.refund_id, "amount": str(refund.amount),
            "currency": draft.currency, "reason": refund.reason}, now,
            why=f"refunded {refund.amount} {draft.currency}",
            review=None if correct else _review_reason(shop, upstream, "correct"))
    if not correct:
        amounts = ", ".join(f"{refund.amount} {draft.currency}" for refund in new)
        lifecycle.changed_after_invoice(session, row, shop, f"refunded after invoicing "
                                        f"({amounts})")


def plan_cancelled(session: Session, row: OrderSync, shop: ShopSettings,
                   upstream: InvoiceUpstream, status: str | None,
                   draft: InvoiceDraft | None, now: datetime) -> bool:
    """An invoiced order left the invoiced statuses. True if a task takes care of it; False
    leaves it to the usual "changed after invoicing" review."""
    if status not in CANCELLED_STATUSES or row.synced_hash is None:
        return False
    if shop.after_cancel == "cancel" and capable(upstream, TaskKind.CANCEL):
        _ensure(session, row, TaskKind.CANCEL, "cancel", {
            "key": f"{shop.id}:{row.order_id}",
            "reason": f"order {row.order_number or row.order_id} {status} in the shop"}, now,
            why=f"the order was {status}")
        return True
    if shop.after_cancel == "correct" and capable(upstream, TaskKind.CORRECTION) and draft:
        if draft.refunds:
            plan_paid_and_refunded(session, row, shop, upstream, draft, now)
        else:
            _ensure(session, row, TaskKind.CORRECTION, "cancelled", {
                "key": f"{shop.id}:{row.order_id}:cancelled", "refund_id": 0,
                "amount": str(draft.total), "currency": draft.currency,
                "reason": f"order {status} in the shop"}, now, why=f"the order was {status}")
        return True
    return False


def _review_reason(shop: ShopSettings, upstream: InvoiceUpstream, wanted: str) -> str:
    if shop.after_cancel != wanted:
        return f'after_cancel = "{shop.after_cancel}": a person decides'
    return f"{upstream.kind} cannot do this automatically: a person decides"


def _exists(session: Session, row: OrderSync, kind: TaskKind, key: str) -> bool:
    return session.execute(select(OrderTask.id).where(
        OrderTask.sync_id == row.id, OrderTask.kind == kind, OrderTask.key == key)
    ).first() is not None


def _ensure(session: Session, row: OrderSync, kind: TaskKind, key: str,
            payload: dict[str, Any], now: datetime, *, why: str,
            review: str | None = None) -> None:
    """One task per (order, kind, key), whatever the number of deliveries that ask."""
    created = insert_ignoring_conflicts(session, OrderTask, {
        "sync_id": row.id, "shop": row.shop, "order_id": row.order_id, "kind": kind,
        "key": key, "payload": payload, "attempts": 0, "unknown": False,
        "state": TaskState.REVIEW if review else TaskState.PENDING,
        "next_attempt_at": None if review else now, "last_error": review,
        "created_at": now, "updated_at": now}, ["sync_id", "kind", "key"])
    if created:
        add_event(session, row, "task", f"{kind} planned: {why}"
                  + (f" (in review: {review})" if review else ""))
