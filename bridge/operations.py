"""What an operator can do to sync rows: the service layer behind the admin API and the CLI.

Each function runs in the caller's transaction, locks the row, and raises ``Refused`` (with
its kind: not found, conflict, ...) when the action is unsafe (sending now, or would risk a
second invoice without ``force``); the admin API and the command line translate the kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import lifecycle
from bridge.clock import utcnow
from bridge.config.model import Settings
from bridge.config.sections import SHOP_ID
from bridge.errors import MappingError, RefusalKind, Refused, invalid
from bridge.intake.snapshots import latest_snapshot
from bridge.mapping.build import map_order
from bridge.mapping.fingerprint import draft_fingerprint
from bridge.storage.database import Database
from bridge.storage.models import OrderSync, ShopState
from bridge.storage.notify import notify_workers
from bridge.storage.repository import add_event, find_sync_row, set_shop_paused
from bridge.storage.states import SyncState
from bridge.upstreams.registry import UpstreamRegistry
from bridge.writeback import dispatch as writeback


@dataclass(frozen=True)
class ResyncResult:
    row: OrderSync
    remapped: bool


#: order ids are BIGINT; a larger number cannot exist (and would be a database error)
MAX_ORDER_ID = 2**63 - 1


def get_row(session: Session, shop: str, order_id: int, *, lock: bool = False) -> OrderSync:
    # a text that cannot be a shop id has no rows, and is never sent to the database (which
    # may refuse it: PostgreSQL's text holds no NUL)
    row = (find_sync_row(session, shop, order_id, lock=lock)
           if 0 < order_id <= MAX_ORDER_ID and SHOP_ID.fullmatch(shop) else None)
    if row is None:
        raise Refused("not_found", f"no sync row for order {order_id} of {shop[:80]!r}",
                      RefusalKind.NOT_FOUND)
    return row


def _configured_shop(settings: Settings, shop_id: str) -> Any:
    shop = settings.shop(shop_id)
    if shop is None:
        raise Refused("unknown_shop", f"no shop {shop_id[:80]!r} is configured",
                      RefusalKind.NOT_FOUND)
    return shop


def resync(session: Session, settings: Settings, upstreams: UpstreamRegistry, shop_id: str,
           order_id: int, *, force: bool = False, actor: str = "operator") -> ResyncResult:
    """Queue an order to be sent again, re-mapped from its latest snapshot with today's
    configuration (so a fixed setting takes effect).

    Refused while it is being sent, and -- unless ``force`` -- when the upstream already
    accepted an invoice for it (a second send may create a second invoice) or its status
    does not create invoices.
    """
    shop = _configured_shop(settings, shop_id)
    row = get_row(session, shop_id, order_id, lock=True)
    if row.state == SyncState.SENDING:
        raise Refused("sending", "the order is being sent right now; try again in a minute")
    if row.synced_hash is not None and not force:
        raise Refused(
            "already_invoiced",
            f"{row.upstream} already accepted an invoice for this order"
            f"{' (' + row.invoice_id + ')' if row.invoice_id else ''}; sending again may create "
            "a second invoice. Pass force=true to send anyway.")
    if row.deleted_in_shop and not force:
        raise Refused("deleted_in_shop", "the order was deleted in the shop; pass force=true "
                      "to invoice it anyway")
    snapshot = latest_snapshot(session, row)
    if snapshot is not None:
        status = snapshot.get("status")
        if status not in shop.invoice_statuses and not force:
            raise Refused(
                "status_not_invoiced",
                f"the order's status {status!r} does not create an invoice "
                f"(invoice_statuses: {', '.join(shop.invoice_statuses)}); pass force=true "
                "to invoice it anyway")
        upstream = upstreams.for_shop(shop_id)
        try:
            draft = map_order(snapshot, shop, upstream.rules)
            row.payload = upstream.render(draft)
            row.content_hash = draft_fingerprint(draft)
        except MappingError as exc:  # a refusal changes nothing; the answer names the fields
            raise Refused("invalid_order", f"the order cannot be mapped: {exc}",
                          RefusalKind.UNPROCESSABLE, fields=exc.errors) from exc
    if row.payload is None:
        raise Refused("no_snapshot", "no snapshot of this order is stored; backfill it from "
                      "the shop first")
    lifecycle.to_pending(row, utcnow(), fresh=True)
    row.deleted_in_shop = False
    add_event(session, row, "operator", f"{actor}: resync{' (forced)' if force else ''}")
    notify_workers(session)  # due now: wake the workers when this commits
    return ResyncResult(row=row, remapped=snapshot is not None)



def set_paused(session: Session, settings: Settings, shop_id: str, paused: bool, *,
               reason: str | None = None, actor: str = "operator") -> ShopState:
    """Pause or resume a shop's dispatch. Deliveries are still received and processed while
    paused; only sending upstream waits. Resuming makes the waiting rows due at once."""
    _configured_shop(settings, shop_id)
    reason = reason or f"paused by {actor}"
    set_shop_paused(session, shop_id, paused, reason if paused else None)
    if not paused:  # the operator fixed what was refused: the shop's REST key too
        writeback.resume(session, shop_id)
        notify_workers(session)
    state = session.get(ShopState, shop_id)
    assert state is not None
    return state


def skip(session: Session, shop_id: str, order_id: int, *, reason: str,
         actor: str = "operator") -> OrderSync:
    """Do not invoice this order (a test order, a duplicate order in the shop, ...)."""
    row = get_row(session, shop_id, order_id, lock=True)
    if row.state == SyncState.SENDING:
        raise Refused("sending", "the order is being sent right now")
    if row.state == SyncState.SYNCED or row.synced_hash is not None:
        raise Refused("already_invoiced", "the upstream already holds an invoice for this "
                      "order; cancel it there instead of skipping here")
    lifecycle.to_skipped(row, f"skipped by {actor}: {reason}")
    add_event(session, row, "operator", f"{actor}: skip ({reason})")
    return row


def acknowledge(session: Session, shop_id: str, order_id: int, *,
                invoice_id: str | None = None, note: str | None = None,
                actor: str = "operator") -> OrderSync:
    """Settle a ``review`` row as invoiced: the operator checked the upstream and the invoice
    is there (and, after a change, is fine as it is). Optionally record its id."""
    row = get_row(session, shop_id, order_id, lock=True)
    if row.state != SyncState.REVIEW:
        raise Refused("not_in_review",
                      f"only rows in review can be acknowledged (this one is {row.state})")
    lifecycle.acknowledged(row, invoice_id=invoice_id, now=utcnow())
    add_event(session, row, "operator", f"{actor}: acknowledged as invoiced"
              f"{' (' + invoice_id + ')' if invoice_id else ''}{': ' + note if note else ''}")
    return row


def check_resync_state(state: str) -> None:
    """A bulk resync by state takes any state but ``sending`` (a worker holds those rows)."""
    if state not in {s.value for s in SyncState} or state == SyncState.SENDING:
        raise invalid("state", f"cannot resync {state[:40]!r} rows", code="bad_state")


@dataclass
class BulkResult:
    queued: list[int]
    refused: list[dict[str, Any]]


def resync_many(db: Database, settings: Settings, upstreams: UpstreamRegistry, shop_id: str, *,
                order_ids: list[int] | None = None, state: str | None = None,
                force: bool = False, actor: str = "operator",
                progress: Callable[[int], None] | None = None) -> BulkResult:
    """Resync a list of orders, or every order of the shop in ``state``; each in its own
    transaction, so one refusal does not undo the others. Idempotent: an order already
    queued is simply queued again, which sends nothing twice."""
    _configured_shop(settings, shop_id)
    if state is not None:
        check_resync_state(state)
    if order_ids is None:
        if state is None:
            raise invalid("state", "required")
        with db.read() as session:
            order_ids = list(session.execute(select(OrderSync.order_id).where(
                OrderSync.shop == shop_id, OrderSync.state == state)
                .order_by(OrderSync.order_id)).scalars())
    result = BulkResult(queued=[], refused=[])
    for order_id in order_ids:
        try:
            with db.transaction() as session:
                resync(session, settings, upstreams, shop_id, order_id, force=force,
                       actor=actor)
            result.queued.append(order_id)
        except Refused as exc:
            result.refused.append({"order_id": order_id, **exc.as_dict()})
        if progress is not None:
            progress(1)
    return result
