"""JSON shapes of rows for the admin API (one place, so the API and OpenAPI agree).

Reasons (``last_error``, an attempt's ``error``, a delivery's ``reason``, an event's
``detail``) go through the log masking: they can quote what a buyer typed into a wrong field
-- a name where the e-mail or the fiscal code belongs -- and the upstream's answers. The
order's ``payload`` is shown as sent: it is what an operator checks an invoice against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.masking import mask_text
from bridge.storage.models import Delivery, DispatchAttempt, OrderSync, ShopState, SyncEvent


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def reason(text: str | None) -> str | None:
    return mask_text(text) if text else text


def row_view(row: OrderSync, *, with_payload: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": row.id,
        "shop": row.shop,
        "order_id": row.order_id,
        "order_number": row.order_number,
        "order_status": row.order_status,
        "state": row.state,
        "upstream": row.upstream,
        "invoice_id": row.invoice_id,
        "invoice_number": row.invoice_number,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "first_attempt_at": _iso(row.first_attempt_at),
        "last_error": reason(row.last_error),
        "last_http_status": row.last_http_status,
        "content_hash": row.content_hash,
        "synced_hash": row.synced_hash,
        "snapshot_modified_at": _iso(row.snapshot_modified_at),
        "deleted_in_shop": row.deleted_in_shop,
        "lease_owner": row.lease_owner,
        "lease_until": _iso(row.lease_until),
        "synced_at": _iso(row.synced_at),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }
    if with_payload:
        view["payload"] = row.payload
    return view


def attempt_view(attempt: DispatchAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "started_at": _iso(attempt.started_at),
        "duration_ms": attempt.duration_ms,
        "worker": attempt.worker,
        "outcome": attempt.outcome,
        "http_status": attempt.http_status,
        "error": reason(attempt.error),
        "invoice_id": attempt.invoice_id,
    }


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "shop": delivery.shop,
        "order_id": delivery.order_id,
        "source": delivery.source,
        "received_at": _iso(delivery.received_at),
        "topic": delivery.topic,
        "wc_delivery_id": delivery.delivery_id,
        "status": delivery.status,
        "outcome": delivery.outcome,
        "reason": reason(delivery.reason),
        "tries": delivery.tries or 0,
        "body_bytes": len(delivery.body),
    }


def event_view(event: SyncEvent) -> dict[str, Any]:
    return {"at": event.at.isoformat(), "kind": event.kind, "detail": reason(event.detail)}


def shop_view(shop: str, state: ShopState | None,
              counts: dict[str, int] | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "shop": shop,
        "paused": bool(state and state.paused),
        "paused_reason": state.paused_reason if state else None,
        "paused_at": _iso(state.paused_at) if state else None,
    }
    if counts is not None:
        view["rows_by_state"] = counts
    return view
