"""Claiming, sending and recording write-backs (``order_writebacks``), beside invoicing.

The dispatcher's rules, against the shop instead of the upstream:

- claimed with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), never for a shop whose
  write-back is paused; sent on the worker's dispatch threads within the shop's
  ``write_rate``; a running one's lease is renewed by the worker;
- an item sent before (an attempt failed or its answer was lost, its worker died, or the
  order was written back before) is **read back first**: meta ``_invoice_bridge_key`` equal
  to the target means done; else the order's notes are searched for the note before one is
  added. Then the note, then the meta (the meta last: it is the record that both are there);
- answers: done; the key refused (401/403) -> the shop's write-back pauses (invoicing goes
  on); 5xx, timeouts, 429 -> retried with backoff; the order gone (404) or any other refusal
  -> failed with the reason;
- a request whose outcome is in doubt before the note was seen on the order (no answer in
  ``timeout``, the connection lost, a gateway's 502/504) may still be running in WordPress:
  a read-back now would not find its note and add a second one. So the retry waits at least
  ``IN_DOUBT_WAIT`` times the shop's ``timeout`` (the request has run that long already).

The note text is never logged: it may quote the buyer's data.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bridge.clock import utcnow
from bridge.config.model import Settings, WooRestSettings
from bridge.dispatch.claims import work_item_claim
from bridge.dispatch.ratelimit import RateLimiter
from bridge.dispatch.retry import RetryPolicy
from bridge.errors import WooRestAuthError, WooRestError, WooRestNotFound, clip
from bridge.logs import log_context
from bridge.storage.models import WRITEBACK_IS_DUE, OrderWriteBack, ShopState
from bridge.storage.repository import insert_ignoring_conflicts
from bridge.storage.states import WriteBackState
from bridge.woocommerce.rest import WooRestClient
from bridge.writeback import text
from bridge.writeback.plan import shops_writing_back

log = logging.getLogger(__name__)

#: keys of notes remembered per order (``noted``): far more than an order's states
NOTED_LIMIT = 20
#: a write in doubt is read back no sooner than this many times the shop's ``timeout``
IN_DOUBT_WAIT = 2.0
#: gateway answers that leave WordPress's request running (or done) behind them
_GATEWAY_STATUSES = (502, 504)


def in_doubt(error: WooRestError) -> bool:
    """Whether the request may have been carried out (or still be running) in WordPress."""
    return error.retryable and (error.status is None or error.status in _GATEWAY_STATUSES)


@dataclass(frozen=True)
class WriteBackClaim:
    item_id: int
    shop: str
    order_id: int
    key: str
    payload: dict[str, Any]
    attempts: int
    #: something was sent for this order before: read back before writing
    sent_before: bool
    noted: tuple[str, ...]
    lease_owner: str
    lease_until: datetime

    @property
    def kind(self) -> str:  # for the worker's log lines, like a task's kind
        return "write-back"


@dataclass(frozen=True)
class WriteBackResult:
    started_at: datetime
    done: bool = False
    #: the note for the claimed key is on the order (added now, or found)
    noted: bool = False
    #: how it ended: "written", "found" (read back: already there), "note_found"
    how: str = ""
    error: WooRestError | None = None
    unsent: str | None = None


_CLAIM = work_item_claim(
    OrderWriteBack, sending=WriteBackState.SENDING.value, due=WRITEBACK_IS_DUE,
    paused=select(ShopState.shop).where(ShopState.writeback_paused.is_(True)),
    returning=[OrderWriteBack.id, OrderWriteBack.shop, OrderWriteBack.order_id,
               OrderWriteBack.target, OrderWriteBack.payload, OrderWriteBack.attempts,
               OrderWriteBack.written, OrderWriteBack.noted])


class WriteBackDispatcher:
    """Claims, sends and records write-backs for a worker."""

    def __init__(self, settings: Settings, limiter: RateLimiter, policy: RetryPolicy,
                 worker_id: str) -> None:
        self.settings = settings
        self.limiter = limiter
        self.policy = policy
        self.worker_id = worker_id
        self.shops = shops_writing_back(settings)
        #: REST clients are not thread-safe: one per dispatch thread and shop
        self._local = threading.local()

    # --- claiming (the loop, in a transaction) ---------------------------------------------

    def claim(self, session: Session, *, limit: int, now: datetime) -> list[WriteBackClaim]:
        if limit <= 0 or not self.shops:
            return []
        owner = f"{self.worker_id}/w{uuid.uuid4().hex[:10]}"
        until = now + timedelta(seconds=self.settings.dispatch.lease)
        rows = session.connection().execute(_CLAIM, {
            "now": now, "shops": self.shops, "limit": limit, "owner": owner,
            "until": until}).all()
        return [WriteBackClaim(row.id, row.shop, row.order_id, row.target, dict(row.payload),
                               row.attempts, bool(row.attempts or row.written),
                               tuple(row.noted or ()), owner, until) for row in rows]

    # --- sending (a dispatch thread) -----------------------------------------------------

    def send(self, claim: WriteBackClaim, *, now: datetime, stopping: bool) -> WriteBackResult:
        with log_context(order=f"{claim.shop}/{claim.order_id}", shop=claim.shop,
                         task="write-back"):
            rest = self._rest(claim.shop)
            if rest is None:
                return WriteBackResult(now, unsent="the shop no longer writes back")
            self.limiter.acquire(f"woocommerce:{claim.shop}", rest.write_rate,
                                 max(1, int(rest.write_rate)))
            if stopping:
                return WriteBackResult(now, unsent="the worker stopped")
            client = self._client(claim.shop, rest)
            noted = claim.key in claim.noted
            try:
                if claim.sent_before:
                    meta = _meta(client.get_order(claim.order_id))
                    if meta.get(text.KEY_META) == claim.key:
                        return WriteBackResult(now, done=True, noted=True, how="found")
                    if not noted:
                        note = str(claim.payload.get("note", ""))
                        noted = any(text.same_note(str(found.get("note", "")), note)
                                    for found in client.order_notes(claim.order_id))
                how = "note_found" if noted and claim.sent_before else "written"
                if not noted:
                    client.add_order_note(claim.order_id, str(claim.payload.get("note", "")),
                                          customer_note=bool(claim.payload.get("customer_note")))
                    noted = True
                client.update_order_meta(claim.order_id, dict(claim.payload.get("meta", {})))
                return WriteBackResult(now, done=True, noted=True, how=how)
            except WooRestError as exc:
                if exc.status == 429:
                    self.limiter.block(f"woocommerce:{claim.shop}", 5.0)
                return WriteBackResult(now, noted=noted, error=exc)
            except Exception as exc:  # our bug; it may have happened after writing
                log.exception("write-back failed")
                return WriteBackResult(now, noted=noted, error=WooRestError(
                    clip(f"internal error: {type(exc).__name__}: {exc}", 500)))

    def _rest(self, shop: str) -> WooRestSettings | None:
        settings = self.settings.shops.get(shop)
        return settings.woocommerce if settings is not None else None

    def _client(self, shop: str, rest: WooRestSettings) -> WooRestClient:
        clients: dict[str, WooRestClient] = getattr(self._local, "clients", None) or {}
        self._local.clients = clients
        if shop not in clients:
            clients[shop] = WooRestClient(rest, retries=0)
        return clients[shop]

    # --- recording (the loop, a transaction per item) ------------------------------------

    def record(self, session: Session, claim: WriteBackClaim, result: WriteBackResult, *,
               now: datetime) -> str:
        item = session.get(OrderWriteBack, claim.item_id, with_for_update=True,
                           populate_existing=True)
        if item is None:
            return "vanished"
        mine = item.lease_owner == claim.lease_owner and item.state == WriteBackState.SENDING
        if result.noted and claim.key not in (item.noted or []):
            item.noted = [*(item.noted or []), claim.key][-NOTED_LIMIT:]
        if result.unsent is not None:
            if mine:
                _due(item, now, now, item.last_error)
            return "unsent"
        if result.done:
            item.written, item.last_error = claim.key, None
            item.last_http_status = None
            if item.target == claim.key:
                item.state, item.done_at = WriteBackState.DONE, now
                item.next_attempt_at = item.lease_owner = item.lease_until = None
            else:  # a newer state was planned while this was written: write that too
                item.attempts, item.first_attempt_at = 0, None
                _due(item, now, now, None)
            item.updated_at = now
            return result.how or "written"
        if not mine:
            return "late"
        error = result.error or WooRestError("no answer and no error")
        return self._failed(session, item, error, now,
                            note_in_doubt=not result.noted and in_doubt(error))

    def _failed(self, session: Session, item: OrderWriteBack, error: WooRestError,
                now: datetime, *, note_in_doubt: bool = False) -> str:
        item.last_http_status = error.status
        reason = clip(str(error), 2000)
        if isinstance(error, WooRestAuthError):
            _pause(session, item.shop, f"the shop refused the REST key: {reason}", now)
            _due(item, now, now, f"write-back paused: {reason}")
            return "paused"
        if isinstance(error, WooRestNotFound):
            return _stop(item, now, f"the order is not in the shop (any more): {reason}")
        throttled = error.status == 429
        if not throttled:
            item.attempts += 1
        if error.retryable:
            decision = self.policy.decide(attempts=item.attempts,
                                          first_attempt_at=item.first_attempt_at, now=now,
                                          count_attempts=not throttled)
            if decision.retry:
                delay = decision.delay
                rest = self._rest(item.shop)
                if note_in_doubt and rest is not None:  # let a running request finish
                    delay = max(delay, IN_DOUBT_WAIT * rest.timeout)
                _due(item, now, now + timedelta(seconds=delay), reason)
                return "throttled" if throttled else "retry"
            return _stop(item, now, f"{decision.reason}; last error: {reason}")
        return _stop(item, now, f"refused by the shop: {reason}")

    def reap(self, session: Session, *, now: datetime, limit: int = 100) -> int:
        """Items whose worker died mid-write: retried, read back first."""
        items = list(session.execute(
            select(OrderWriteBack).where(OrderWriteBack.state == WriteBackState.SENDING,
                                         OrderWriteBack.lease_until < now)
            .order_by(OrderWriteBack.lease_until).limit(limit)
            .with_for_update(skip_locked=True)).scalars())
        for item in items:
            item.attempts += 1
            _due(item, now, now, f"interrupted: lease {item.lease_owner} expired (worker "
                                 "stopped mid-request); read back before writing again")
        return len(items)

    def release(self, session: Session, claims: list[WriteBackClaim], *,
                now: datetime) -> None:
        """Items still being written when the worker had to stop: retried, read back."""
        for claim in claims:
            item = session.get(OrderWriteBack, claim.item_id, with_for_update=True)
            if item is None or item.lease_owner != claim.lease_owner:
                continue
            item.attempts += 1
            _due(item, now, now, "interrupted: the worker stopped before the shop answered")

    def renew(self, session: Session, owners: set[str], *, until: datetime) -> None:
        if owners:
            session.execute(update(OrderWriteBack).where(
                OrderWriteBack.lease_owner.in_(list(owners)),
                OrderWriteBack.state == WriteBackState.SENDING).values(lease_until=until)
                .execution_options(synchronize_session=False))


def _meta(order: dict[str, Any]) -> dict[str, Any]:
    entries = order.get("meta_data")
    if not isinstance(entries, list):
        return {}
    return {entry["key"]: entry.get("value") for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("key"), str)}


def _due(item: OrderWriteBack, now: datetime, due: datetime, error: str | None) -> None:
    item.state = WriteBackState.RETRYING if item.attempts else WriteBackState.PENDING
    item.next_attempt_at, item.last_error = due, error
    item.lease_owner = item.lease_until = None
    item.updated_at = now


def _stop(item: OrderWriteBack, now: datetime, reason: str) -> str:
    item.state, item.last_error = WriteBackState.FAILED, clip(reason, 2000)
    item.next_attempt_at = item.lease_owner = item.lease_until = None
    item.updated_at = now
    return "failed"


def _pause(session: Session, shop: str, reason: str, now: datetime) -> None:
    insert_ignoring_conflicts(session, ShopState,
                              {"shop": shop, "paused": False, "updated_at": now}, ["shop"])
    state = session.execute(select(ShopState).where(ShopState.shop == shop).with_for_update()
                            ).scalar_one()
    if not state.writeback_paused:
        log.error("write-back paused", extra={"shop": shop, "reason": clip(reason, 500)})
    state.writeback_paused, state.writeback_paused_reason = True, reason
    state.updated_at = now


def resume(session: Session, shop: str) -> bool:
    """Release a shop's paused write-back (the key was fixed); True if it was paused. Its
    items waiting are due at once."""
    state = session.get(ShopState, shop, with_for_update=True)
    if state is None or not state.writeback_paused:
        return False
    state.writeback_paused, state.writeback_paused_reason = False, None
    session.execute(update(OrderWriteBack).where(
        OrderWriteBack.shop == shop, WRITEBACK_IS_DUE).values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False))
    return True
