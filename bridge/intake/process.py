"""Process stored deliveries (in the worker): topic -> snapshot -> sync row.

Rules (docs/states.md has the full table):

- A snapshot is keyed on (shop, order id) and ordered by ``date_modified_gmt``; an older
  snapshot never overwrites a newer one. ``X-WC-Webhook-Delivery-ID`` is never used as a key:
  WooCommerce derives it from the current second, so it repeats.
- A snapshot whose invoice would look the same (same fingerprint) changes nothing and causes
  no upstream call.
- Content problems never raise: they become the delivery's outcome and the row's
  ``last_error``, naming the fields. A body too deep to parse, an id out of range, an order
  number or status too long for the sync row: all the same, an ``invalid`` outcome (and an
  ``invalid`` row when the order id can be read).
- Anything else that fails while processing one delivery -- a statement the database
  refuses, an exception of ours -- is tried again on the next turns, at most
  ``failures.MAX_TRIES`` times in all (counted on the delivery), and then the delivery is
  ``quarantined`` with the reason: the deliveries behind it never wait for it. Only a
  database outage stops the intake (the worker backs off and tries again).
- Every reason is bounded (``REASON_LIMIT``), in the database and in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import lifecycle, metrics
from bridge.clock import Clock
from bridge.config.model import Settings, ShopSettings
from bridge.errors import MappingError, clip
from bridge.followups import plan as followups
from bridge.intake import echo
from bridge.intake.backlog import PROCESSED, QUARANTINED, RECEIVED
from bridge.intake.body import read_body
from bridge.intake.failures import MAX_TRIES
from bridge.intake.snapshots import latest_snapshot
from bridge.logs import log_context
from bridge.mapping import fingerprint
from bridge.mapping.build import map_order
from bridge.mapping.draft import InvoiceDraft, SnapshotHeader
from bridge.mapping.woocommerce import (
    MAX_ORDER_NUMBER,
    MAX_STATUS,
    header_problems,
    parse_order_id,
    read_snapshot_header,
)
from bridge.storage.database import Database
from bridge.storage.failures import describe, is_outage
from bridge.storage.models import Delivery, OrderSync
from bridge.storage.repository import (
    add_event,
    find_sync_row,
    had_unknown_outcome,
    lock_sync_row,
)
from bridge.storage.states import DeliveryOutcome, SyncState
from bridge.upstreams.port import invoice_finder
from bridge.upstreams.registry import UpstreamRegistry

log = logging.getLogger(__name__)

SNAPSHOT_EVENTS = ("created", "updated", "restored")
#: States whose row simply takes a new payload and becomes due.
RESTARTABLE = (SyncState.PENDING, SyncState.FAILED, SyncState.INVALID, SyncState.SKIPPED)
#: longest reason kept on a delivery (and logged); field errors are bounded below this
REASON_LIMIT = 4000


@dataclass(frozen=True)
class Outcome:
    outcome: DeliveryOutcome
    reason: str | None = None
    order_id: int | None = None


class DeliveryProcessor:
    def __init__(self, db: Database, settings: Settings, upstreams: UpstreamRegistry,
                 clock: Clock | None = None) -> None:
        self.db = db
        self.settings = settings
        self.upstreams = upstreams
        self.clock = clock or Clock()

    def process_pending(self, limit: int = 200) -> int:
        """Process up to ``limit`` received deliveries, oldest first. Returns how many."""
        with self.db.read() as session:
            ids = session.execute(select(Delivery.id).where(Delivery.status == RECEIVED)
                                  .order_by(Delivery.id).limit(limit)).scalars().all()
        return sum(1 for delivery_id in ids if self.process_one(delivery_id) is not None)

    def process_one(self, delivery_id: int) -> Outcome | None:
        """Process one delivery in its own transaction (None if another worker has it)."""
        with log_context(delivery=delivery_id):
            return self._process_one(delivery_id)

    def _process_one(self, delivery_id: int) -> Outcome | None:
        shop = "?"
        try:
            with self.db.transaction() as session:
                delivery = session.execute(
                    select(Delivery).where(Delivery.id == delivery_id,
                                           Delivery.status == RECEIVED)
                    .with_for_update(skip_locked=True)
                ).scalar_one_or_none()
                if delivery is None:
                    return None
                shop = delivery.shop
                outcome = self.interpret(session, delivery)
                self._finish(delivery, outcome)
        except Exception as exc:
            if is_outage(exc):
                raise  # the database is the problem; the worker loop backs off and retries
            failed = self._failed_try(delivery_id, exc)
            if failed is None:
                return None
            shop, outcome = failed
        metrics.processed.labels(shop=shop, outcome=outcome.outcome).inc()
        log.info("delivery processed", extra={
            "shop": shop, "outcome": outcome.outcome, "reason": clip(outcome.reason or "", 500),
            "order": f"{shop}/{outcome.order_id}" if outcome.order_id is not None else None})
        return outcome

    def _failed_try(self, delivery_id: int, exc: Exception) -> tuple[str, Outcome] | None:
        """Count a failed try on the delivery, in a transaction of its own (the failed one
        was rolled back); quarantine it once the tries are used up. The next turn tries it
        again otherwise."""
        with self.db.transaction() as session:
            delivery = session.execute(
                select(Delivery).where(Delivery.id == delivery_id, Delivery.status == RECEIVED)
                .with_for_update()).scalar_one_or_none()
            if delivery is None:
                return None
            delivery.tries = (delivery.tries or 0) + 1
            if delivery.tries < MAX_TRIES:
                delivery.reason = f"try {delivery.tries} of {MAX_TRIES} failed: {describe(exc)}"
                log.warning("processing a delivery failed; it will be tried again", extra={
                    "shop": delivery.shop, "tries": delivery.tries, "error": describe(exc)})
                return delivery.shop, Outcome(DeliveryOutcome.RETRY, delivery.reason)
            delivery.status = QUARANTINED
            delivery.reason = (f"quarantined after {delivery.tries} tries; the last failed "
                               f"with {describe(exc)}")
            delivery.processed_at = self.clock.now()
            # The traceback once, when a person has to look (not on every try).
            log.error("delivery quarantined", exc_info=exc, extra={
                "shop": delivery.shop, "tries": delivery.tries, "error": describe(exc)})
            return delivery.shop, Outcome(DeliveryOutcome.QUARANTINED,
                                          delivery.reason, delivery.order_id)

    def _finish(self, delivery: Delivery, outcome: Outcome) -> None:
        delivery.status = PROCESSED
        delivery.outcome = outcome.outcome
        delivery.reason = clip(outcome.reason, REASON_LIMIT) if outcome.reason else None
        delivery.order_id = outcome.order_id if outcome.order_id is not None else delivery.order_id
        delivery.processed_at = self.clock.now()

    # --- interpretation ------------------------------------------------------------------

    def interpret(self, session: Session, delivery: Delivery) -> Outcome:
        shop = self.settings.shop(delivery.shop)
        if shop is None:
            return Outcome(DeliveryOutcome.IGNORED,
                           f"shop {delivery.shop!r} is no longer configured")
        topic = delivery.topic or ""
        resource, _, event = topic.partition(".")
        if not topic:
            return Outcome(DeliveryOutcome.IGNORED, "no X-WC-Webhook-Topic header")
        if resource not in ("order", "action"):
            return Outcome(DeliveryOutcome.IGNORED, f"topic {topic!r} is not about orders")
        body = read_body(delivery.body)
        if not body.ok:
            return self._unreadable_body(session, shop, delivery.id, event, body.error or "",
                                         body.top_level)
        data = body.data
        if not isinstance(data, dict):
            return Outcome(DeliveryOutcome.INVALID,
                           f"body must be a JSON object, got {type(data).__name__}")
        if resource == "action":
            return Outcome(DeliveryOutcome.IGNORED, (
                f"action topics carry no order data ({data.get('action')!r}, arg "
                f"{data.get('arg')!r}); subscribe the webhook to order.created and order.updated"))
        if "code" in data and "id" not in data:
            return _error_payload(data)
        if event in SNAPSHOT_EVENTS:
            return self.apply_snapshot(session, shop, delivery.id, data,
                                       restored=event == "restored")
        if event == "deleted":
            return self.apply_deleted(session, shop, data)
        return Outcome(DeliveryOutcome.IGNORED, f"order event {event!r} is not handled")

    def _unreadable_body(self, session: Session, shop: ShopSettings, delivery_id: int,
                         event: str, error: str, top_level: dict[str, Any]) -> Outcome:
        """A body ``json`` cannot (or must not) parse. If it is a snapshot whose top-level
        ``id`` could still be read, the order's row records the problem too."""
        if event not in SNAPSHOT_EVENTS or "id" not in top_level:
            return Outcome(DeliveryOutcome.INVALID, error)
        return self.apply_snapshot(session, shop, delivery_id, top_level,
                                   restored=event == "restored",
                                   problem=MappingError({"order": [error]}))

    def apply_snapshot(self, session: Session, shop: ShopSettings, delivery_id: int | None,
                       data: dict[str, Any], *, restored: bool = False,
                       problem: MappingError | None = None) -> Outcome:
        """Apply one order snapshot to its row. ``problem``: the body could not be read in
        full (``data`` then holds only its top-level scalars), so the row becomes invalid."""
        try:
            header = read_snapshot_header(data)
        except MappingError as exc:
            return Outcome(DeliveryOutcome.INVALID, f"cannot identify the order: {exc}")
        if problem is None and header_problems(header):
            problem = MappingError(header_problems(header))
        if header.status == "checkout-draft":
            return Outcome(DeliveryOutcome.IGNORED,
                           "checkout-draft orders are never invoiced", header.order_id)

        upstream = self.upstreams.for_shop(shop.id)
        row, created = lock_sync_row(session, shop.id, header.order_id, upstream=upstream.kind)
        if not created:
            stale = _staleness(row, header)
            if stale:
                return Outcome(DeliveryOutcome.STALE, stale, header.order_id)
            if echo.has_own_meta(data) and echo.is_echo(data, latest_snapshot(session, row)):
                return Outcome(DeliveryOutcome.ECHO, "the shop's echo of the bridge's own "
                               "write-back (only _invoice_bridge_* meta changed)",
                               header.order_id)

        # what fits the columns; an over-long value is the problem reported below
        row.order_number = _fit(header.number, MAX_ORDER_NUMBER) or row.order_number
        row.order_status = _fit(header.status, MAX_STATUS)
        row.snapshot_modified_at = header.modified_at or row.snapshot_modified_at
        row.last_delivery_id = delivery_id
        if restored and row.deleted_in_shop:
            row.deleted_in_shop = False
            add_event(session, row, "snapshot", "order restored in the shop")

        if problem is not None:
            return self._unmappable(session, row, shop, problem, header.order_id)
        if header.status not in shop.invoice_statuses:
            if not created and followups.plan_cancelled(
                    session, row, shop, upstream, header.status, _draft_or_none(data, shop),
                    self.clock.now()):
                return Outcome(DeliveryOutcome.APPLIED, f"after invoicing: {header.status}; "
                               f"after_cancel = {shop.after_cancel!r}", row.order_id)
            return self._not_invoiceable(session, row, shop, header, created)
        try:
            draft = map_order(data, shop, upstream.rules)
            payload = upstream.render(draft)
        except MappingError as exc:
            return self._unmappable(session, row, shop, exc, header.order_id)
        if draft.total.is_zero() and not shop.invoice_zero_total:
            return self._not_invoiceable(
                session, row, shop, header, created,
                reason="the order total is 0: there is nothing to pay (invoice_zero_total)")
        outcome = self._new_content(session, row, shop, payload, draft, created)
        followups.plan_paid_and_refunded(session, row, shop, upstream, draft, self.clock.now())
        return outcome

    def apply_deleted(self, session: Session, shop: ShopSettings, data: dict[str, Any]) -> Outcome:
        try:
            order_id = parse_order_id(data.get("id"))
        except ValidationError as exc:
            return Outcome(DeliveryOutcome.INVALID,
                           f"cannot identify the order: id: {exc.messages[0]}")
        row = find_sync_row(session, shop.id, order_id, lock=True)
        if row is None:
            return Outcome(DeliveryOutcome.IGNORED, "deleted an order we never received", order_id)
        row.deleted_in_shop = True
        add_event(session, row, "snapshot", "order deleted (trashed) in the shop")
        if row.state == SyncState.RETRYING and had_unknown_outcome(session, row):
            return self._maybe_invoiced(session, row, shop, "the order was deleted in the shop",
                                        can_look_up=True)
        if row.state in (*RESTARTABLE, SyncState.RETRYING):
            lifecycle.to_skipped(row, "order deleted (trashed) in the shop before it was invoiced")
        elif row.state in (SyncState.SYNCED, SyncState.REVIEW):
            lifecycle.changed_after_invoice(session, row, shop, "the order was deleted in the shop")
        # SENDING: the dispatcher sees deleted_in_shop when the attempt ends.
        return Outcome(DeliveryOutcome.APPLIED,
                       f"order marked deleted (state {row.state})", order_id)

    # --- decisions ----------------------------------------------------------------------

    def _not_invoiceable(self, session: Session, row: OrderSync, shop: ShopSettings,
                         header: SnapshotHeader, created: bool, reason: str | None = None
                         ) -> Outcome:
        reason = reason or (f"status {header.status!r} does not create an invoice "
                            f"(invoice_statuses: {', '.join(shop.invoice_statuses)})")
        if row.state in (SyncState.SYNCED, SyncState.REVIEW) and not created:
            lifecycle.changed_after_invoice(session, row, shop, f"no longer invoiceable: {reason}")
            return Outcome(DeliveryOutcome.APPLIED, f"after invoicing: {reason}", row.order_id)
        if row.state == SyncState.SENDING and not created:
            add_event(session, row, "snapshot", f"status {header.status!r} arrived while sending")
            return Outcome(DeliveryOutcome.APPLIED, reason, row.order_id)
        if row.state == SyncState.RETRYING and had_unknown_outcome(session, row):
            # a status that left invoice_statuses is what the dispatcher recognises (and
            # then only looks up); a total that became 0 it would simply send
            return self._maybe_invoiced(session, row, shop, reason,
                                        can_look_up=header.status not in shop.invoice_statuses)
        row.payload = None
        row.content_hash = None
        lifecycle.to_skipped(row, reason)
        return Outcome(DeliveryOutcome.APPLIED, reason, row.order_id)

    def _maybe_invoiced(self, session: Session, row: OrderSync, shop: ShopSettings, what: str,
                        *, can_look_up: bool) -> Outcome:
        """A row waiting for a retry after an unknown outcome, whose order is withdrawn: its
        invoice may exist, so it is never simply skipped. An upstream that can be asked is
        asked at once (the dispatcher only looks; found: ``synced``, else ``skipped``);
        otherwise a person checks (``review``)."""
        if can_look_up and invoice_finder(self.upstreams.for_shop(shop.id)) is not None:
            row.next_attempt_at = self.clock.now()
            add_event(session, row, "snapshot", f"{what}; an earlier attempt's outcome is "
                      "unknown, so the invoice is looked up (never sent again) at once")
            return Outcome(DeliveryOutcome.APPLIED, f"{what}: its invoice is looked up",
                           row.order_id)
        lifecycle.to_review(row, f"{what}, and an earlier attempt's outcome is unknown. "
                                 f"{lifecycle.MAYBE_INVOICED}")
        add_event(session, row, "state", row.last_error or "")
        return Outcome(DeliveryOutcome.APPLIED, f"{what}: to review (the invoice may exist)",
                       row.order_id)

    def _unmappable(self, session: Session, row: OrderSync, shop: ShopSettings,
                    exc: MappingError, order_id: int) -> Outcome:
        reason = f"cannot map the order: {exc}"
        if row.state in (SyncState.SYNCED, SyncState.REVIEW):
            lifecycle.changed_after_invoice(session, row, shop,
                                            f"the new version cannot be mapped ({exc})")
        elif row.state == SyncState.SENDING:
            add_event(session, row, "snapshot", reason)  # the attempt in flight decides
        else:
            row.payload = None
            row.content_hash = None
            lifecycle.to_invalid(row, reason)
        return Outcome(DeliveryOutcome.INVALID, reason, order_id)

    def _new_content(self, session: Session, row: OrderSync, shop: ShopSettings,
                     payload: dict[str, Any], draft: InvoiceDraft, created: bool) -> Outcome:
        now = self.clock.now()
        if not created and fingerprint.matches(draft, row.content_hash) and row.state not in (
            SyncState.SKIPPED, SyncState.INVALID
        ):
            if row.state in (SyncState.PENDING, SyncState.RETRYING):
                row.payload = payload  # e.g. the status moved on; the schedule stays
            return Outcome(DeliveryOutcome.UNCHANGED,
                           "nothing the invoice shows has changed", row.order_id)

        previous = row.payload
        row.payload, row.content_hash = payload, fingerprint.draft_fingerprint(draft)
        # What mapping did on its own (a rounding line, a fiscal code sent despite its check
        # digit): on the row's history, once per new content, for the operator to see.
        for note in draft.notes:
            add_event(session, row, "snapshot", f"mapping: {note}")
        state = row.state
        if created or state in RESTARTABLE:
            lifecycle.to_pending(row, now, fresh=state != SyncState.PENDING or created)
            return Outcome(DeliveryOutcome.APPLIED, "queued for invoicing", row.order_id)
        if state == SyncState.RETRYING:
            add_event(session, row, "snapshot", "a newer snapshot replaces the one being retried")
            return Outcome(DeliveryOutcome.APPLIED,
                           "newer snapshot will be sent at the next retry", row.order_id)
        if state == SyncState.SENDING:
            add_event(session, row, "snapshot", "a newer snapshot arrived while sending")
            return Outcome(DeliveryOutcome.APPLIED,
                           "newer snapshot arrived while sending", row.order_id)
        if fingerprint.matches(draft, row.synced_hash):
            row.content_hash = row.synced_hash  # the same content, in the stored version
            add_event(session, row, "snapshot", "order changed back to what was invoiced")
            return Outcome(DeliveryOutcome.UNCHANGED,
                           "matches the invoice already sent", row.order_id)
        lifecycle.changed_after_invoice(session, row, shop,
                                        lifecycle.describe_change(previous, payload))
        return Outcome(DeliveryOutcome.APPLIED,
                       f"changed after invoicing (state {row.state})", row.order_id)


def _draft_or_none(data: dict[str, Any], shop: ShopSettings) -> InvoiceDraft | None:
    """The order mapped without any upstream's rules (its refunds and total, for a
    correction), or None if it cannot be."""
    try:
        return map_order(data, shop)
    except MappingError:
        return None


def _fit(value: str | None, limit: int) -> str | None:
    return value if value is None or len(value) <= limit else value[:limit - 1] + "…"


def _staleness(row: OrderSync, header: SnapshotHeader) -> str | None:
    """Why this snapshot must not replace the row's, or None if it may."""
    if row.snapshot_modified_at is None:
        return None
    if header.modified_at is None:
        return ("date_modified_gmt is missing, so this snapshot cannot be ordered against the "
                f"one already applied ({row.snapshot_modified_at.isoformat()})")
    if header.modified_at < row.snapshot_modified_at:
        return (f"older than the snapshot already applied ({header.modified_at.isoformat()} < "
                f"{row.snapshot_modified_at.isoformat()})")
    return None


def _error_payload(data: dict[str, Any]) -> Outcome:
    status = data.get("data", {}).get("status") if isinstance(data.get("data"), dict) else None
    return Outcome(DeliveryOutcome.ERROR_PAYLOAD, (
        f"WooCommerce sent an error instead of the order: {clip(str(data.get('code')), 200)}: "
        f"{clip(str(data.get('message')), 500)} (HTTP {clip(str(status), 20)}); usually the "
        "webhook's user lacks rights or the order was deleted before delivery"))
