"""Every change of a sync row's state, in one place.

Intake (new snapshots), dispatch (upstream answers) and the admin API (operator actions) all
move rows through these functions, so the transitions documented in docs/states.md are the
only ones that exist. Each function changes the row in the caller's transaction; none commits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bridge.config.model import ShopSettings
from bridge.storage.models import OrderSync
from bridge.storage.repository import add_event
from bridge.storage.states import SyncState
from bridge.upstreams.port import InvoiceRef

#: what a person does about a row withdrawn in the shop whose invoice may exist upstream
MAYBE_INVOICED = ("The invoice may exist upstream: check there, then acknowledge (it exists; "
                  "cancel it there if need be) or skip the order (it does not).")


def _clear_lease(row: OrderSync) -> None:
    row.lease_owner = None
    row.lease_until = None


def to_pending(row: OrderSync, now: datetime, *, fresh: bool) -> None:
    """Due now. ``fresh`` starts the attempt count and age over (new content or operator)."""
    row.state = SyncState.PENDING
    row.next_attempt_at = now
    row.last_error = None
    if fresh:
        row.attempts = 0
        row.first_attempt_at = None
    _clear_lease(row)


def to_skipped(row: OrderSync, reason: str) -> None:
    row.state = SyncState.SKIPPED
    row.next_attempt_at = None
    row.last_error = reason
    _clear_lease(row)


def to_invalid(row: OrderSync, reason: str) -> None:
    row.state = SyncState.INVALID
    row.next_attempt_at = None
    row.last_error = reason
    _clear_lease(row)


def to_review(row: OrderSync, reason: str) -> None:
    row.state = SyncState.REVIEW
    row.next_attempt_at = None
    row.last_error = reason
    _clear_lease(row)


def to_failed(row: OrderSync, reason: str) -> None:
    row.state = SyncState.FAILED
    row.next_attempt_at = None
    row.last_error = reason
    _clear_lease(row)


def to_retrying(row: OrderSync, next_attempt_at: datetime, error: str) -> None:
    row.state = SyncState.RETRYING
    row.next_attempt_at = next_attempt_at
    row.last_error = error
    _clear_lease(row)


def to_synced(session: Session, row: OrderSync, ref: InvoiceRef, *, sent_hash: str | None,
              shop: ShopSettings, now: datetime) -> None:
    """The upstream holds the invoice. If the order changed (or was deleted) while it was
    being sent, the shop's change policy decides what happens next."""
    row.state = SyncState.SYNCED
    row.invoice_id = ref.invoice_id or row.invoice_id
    row.invoice_number = ref.invoice_number or row.invoice_number
    row.synced_hash = sent_hash
    row.synced_at = now
    row.next_attempt_at = None
    row.last_error = None
    if ref.existed and not row.invoice_id:
        row.last_error = ("the upstream says this order already has an invoice but did not "
                          "return its id; look it up there if you need it")
    _clear_lease(row)
    if row.deleted_in_shop:
        changed_after_invoice(session, row, shop, "the order was deleted in the shop")
    elif row.content_hash is not None and row.content_hash != sent_hash:
        changed_after_invoice(session, row, shop, "the order changed while it was being sent")


def acknowledged(row: OrderSync, *, invoice_id: str | None, now: datetime) -> None:
    """An operator confirmed the upstream holds the invoice (after a review)."""
    row.state = SyncState.SYNCED
    row.invoice_id = invoice_id or row.invoice_id
    row.synced_hash = row.content_hash
    row.synced_at = row.synced_at or now
    row.next_attempt_at = None
    row.last_error = None
    _clear_lease(row)


def changed_after_invoice(session: Session, row: OrderSync, shop: ShopSettings,
                          what: str) -> None:
    """An invoiced order changed in the shop. The upstream has no documented way to amend an
    invoice, so we never re-send on our own: ``review`` stops for a person, ``ignore`` keeps
    the row synced and only records what happened."""
    if shop.on_change == "ignore":
        add_event(session, row, "snapshot", f"changed after invoicing (ignored by policy): {what}")
        return
    if row.state == SyncState.REVIEW:
        add_event(session, row, "snapshot", f"changed again while in review: {what}")
        return
    to_review(row, f"order changed after invoicing: {what}. The invoice upstream was not "
                   "changed; check it, then acknowledge (keep it) or resync (send again).")
    add_event(session, row, "state", row.last_error or "")


def describe_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
                    *, limit: int = 4) -> str:
    """Short human description of what differs between two payloads."""
    before, after = _flatten(old or {}), _flatten(new or {})
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if not changed:
        return "no visible difference"
    parts = [f"{key}: {_show(before.get(key))} -> {_show(after.get(key))}"
             for key in changed[:limit]]
    if len(changed) > limit:
        parts.append(f"and {len(changed) - limit} more fields")
    return "; ".join(parts)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        return {prefix: json.dumps(value, sort_keys=True, default=str)}
    return {prefix: value}


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
