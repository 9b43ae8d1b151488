"""What an upstream answer does to a sync row (and to its shop).

- created / already exists / found by a lookup: ``synced`` (attempt counted);
- a failure for an order deleted in the shop, or whose status left ``invoice_statuses``,
  while it was being sent: never sent again -- ``skipped`` if nothing can exist upstream;
  if this or an earlier attempt's outcome is unknown, ``retrying`` when the upstream can
  look invoices up (the next attempt only looks: ``found`` is ``synced``, nothing found is
  ``skipped``), else ``review`` (outcome ``withdrawn``, or ``ambiguous`` when this answer's
  outcome is unknown);
- an invoice created (or found) for an order whose status left ``invoice_statuses``
  meanwhile: ``synced``, then as for any invoiced order that leaves them (``after_cancel``,
  ``on_change``);
- 401/403/404 (the shop's account or endpoint): the shop is paused; the row ``retrying``
  (not counted: every order of the shop would fail the same way);
- 429: ``retrying`` no sooner than Retry-After (not counted; only max_age ends it);
- ambiguous (the invoice may exist: a lost answer, or an answer that is not the upstream's
  own error body, whatever its status) and the upstream neither dedupes repeats nor can be
  asked whether the invoice exists (``find_invoice``): ``review`` -- this comes before the
  two rules above, whose family still acts (the shop pauses, the account's rate limit
  holds);
- other transient failures: ``retrying`` with backoff; when retries run out, ``failed`` --
  or ``review`` if any attempt's outcome was unknown, since the invoice may exist;
- permanent rejections (other 4xx): ``failed`` with the upstream's message (``review`` if
  the outcome of this or an earlier attempt is unknown -- an earlier one is not, when this
  attempt began with a lookup that found no invoice).

docs/guarantees.md explains the same in plain words.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, update
from sqlalchemy.orm import Session

from bridge import lifecycle
from bridge.config.model import ShopSettings
from bridge.dispatch.claims import Claim
from bridge.dispatch.retry import RetryPolicy
from bridge.errors import (
    InvariantBroken,
    UpstreamAccountError,
    UpstreamError,
    UpstreamRateLimited,
)
from bridge.followups.plan import plan_cancelled
from bridge.storage.models import ATTEMPTS, SYNC_ROWS, DispatchAttempt, OrderSync
from bridge.storage.repository import add_event, had_unknown_outcome, set_shop_paused
from bridge.storage.states import AttemptOutcome, SyncState
from bridge.upstreams.port import (
    InvoiceRef,
    InvoiceUpstream,
    invoice_finder,
    settles_unknown_outcomes,
)

log = logging.getLogger(__name__)

#: the states a late answer (after the lease was lost) may still settle
SETTLEABLE_LATE = (SyncState.REVIEW, SyncState.RETRYING, SyncState.PENDING, SyncState.FAILED)


@dataclass(frozen=True)
class AttemptResult:
    started_at: datetime
    duration_ms: float
    ref: InvoiceRef | None = None
    error: UpstreamError | None = None
    #: why the request was never sent (the worker stopping, a lease too short to start on)
    unsent: str | None = None
    #: this attempt began by looking the invoice up (``find_invoice``) and found none: no
    #: earlier attempt whose outcome was unknown created it, so a refusal now is ``failed``
    unknowns_settled: bool = False
    #: the order was withdrawn in the shop: this attempt only looked the invoice up (a
    #: result with neither an invoice nor an error: it found none)
    lookup_only: bool = False

    @property
    def http_status(self) -> int | None:
        if self.ref is not None:
            return self.ref.http_status
        return self.error.http_status if self.error is not None else None


def _synced_statements() -> tuple[Any, Any]:
    """The two statements of ``record_created``, built once with bind parameters: building
    them per order cost more CPU than running them, on the loop that records every answer.
    No RETURNING, so that many answers go in one executemany (one round trip on PostgreSQL,
    which psycopg pipelines); the row count says whether every row matched."""
    table = SYNC_ROWS
    now = bindparam("p_now", type_=table.c.synced_at.type)
    content_hash = bindparam("p_hash", type_=table.c.content_hash.type)
    synced = (
        update(table)
        .where(table.c.id == bindparam("p_sync_id", type_=table.c.id.type),
               table.c.lease_owner == bindparam("p_owner", type_=table.c.lease_owner.type),
               table.c.state == SyncState.SENDING.value, table.c.deleted_in_shop.is_(False),
               # a status changed meanwhile (maybe withdrawn) is for record_result to judge
               table.c.order_status.is_not_distinct_from(
                   bindparam("p_order_status", type_=table.c.order_status.type)),
               or_(table.c.content_hash.is_(None), table.c.content_hash == content_hash))
        .values(state=SyncState.SYNCED.value,
                invoice_id=bindparam("p_invoice_id", type_=table.c.invoice_id.type),
                invoice_number=func.coalesce(
                    bindparam("p_invoice_number", type_=table.c.invoice_number.type),
                    table.c.invoice_number),
                synced_hash=content_hash, synced_at=now, next_attempt_at=None,
                last_error=None, lease_owner=None, lease_until=None,
                attempts=table.c.attempts + 1,
                last_http_status=bindparam("p_status", type_=table.c.last_http_status.type),
                updated_at=now))
    return synced, insert(ATTEMPTS)


_SYNCED, _ATTEMPT = _synced_statements()


def created_outcome(ref: InvoiceRef) -> AttemptOutcome:
    """The attempt outcome of an answer that names the invoice."""
    if ref.looked_up:
        return AttemptOutcome.FOUND
    return AttemptOutcome.EXISTS if ref.existed else AttemptOutcome.CREATED


def is_created(result: AttemptResult) -> bool:
    """The answer is an invoice with its id, for an order not withdrawn in the shop:
    ``record_created`` may take it."""
    return result.ref is not None and bool(result.ref.invoice_id) and not result.lookup_only


def record_created(session: Session, claim: Claim, result: AttemptResult, *,
                   worker_id: str, now: datetime) -> str | None:
    """The common case, a new or existing invoice with its id for a row whose lease we still
    hold and whose content is what we sent, in two Core statements: the same changes as
    ``lifecycle.to_synced`` through the ORM at a fraction of the cost (docs/benchmarks.md).
    Returns None, changing nothing, when any of that is not so; ``record_result`` decides."""
    if not is_created(result):
        return None
    recorded = record_created_many(session, [(claim, result)], worker_id=worker_id, now=now)
    return recorded[0] if recorded else None


def record_created_many(session: Session, answers: Sequence[tuple[Claim, AttemptResult]], *,
                        worker_id: str, now: datetime) -> list[AttemptOutcome] | None:
    """``record_created`` for many answers (all ``is_created``) in two statements, whatever
    their number. Returns their outcomes, or None if any of them is not the common case --
    and then the rows that were, are updated: the caller must roll back and record the
    answers one by one."""
    created = [(claim, result, result.ref) for claim, result in answers
               if is_created(result) and result.ref is not None]
    if not created or len(created) != len(answers):
        return None
    connection = session.connection()
    updated = connection.execute(_SYNCED, [{
        "p_sync_id": claim.sync_id, "p_owner": claim.lease_owner, "p_hash": claim.content_hash,
        "p_invoice_id": ref.invoice_id, "p_invoice_number": ref.invoice_number,
        "p_status": result.http_status, "p_now": now, "p_order_status": claim.order_status}
        for claim, result, ref in created]).rowcount
    if updated != len(created):
        return None
    recorded = [created_outcome(ref) for _, _, ref in created]
    connection.execute(_ATTEMPT, [{
        "sync_id": claim.sync_id, "started_at": result.started_at,
        "duration_ms": result.duration_ms, "worker": worker_id, "outcome": outcome,
        "http_status": result.http_status, "invoice_id": ref.invoice_id,
        "content_hash": claim.content_hash, "error": None}
        for (claim, result, ref), outcome in zip(created, recorded, strict=True)])
    return recorded


def record_unsent(session: Session, claim: Claim, *, shop: ShopSettings | None,
                  upstream: InvoiceUpstream | None, now: datetime) -> AttemptOutcome:
    """A claimed row whose request was never sent goes back to the queue, due now, as if it
    had not been claimed: no attempt counted or recorded, nothing for review. An order
    deleted in the shop meanwhile, or whose status left ``invoice_statuses`` (the intake
    leaves a row being sent to its dispatcher), is skipped instead, as the intake would have
    done -- or stops in review if an earlier attempt may have created its invoice (unless
    the upstream can be asked: then it is queued again, to be looked up)."""
    row = session.get(OrderSync, claim.sync_id, with_for_update=True, populate_existing=True)
    if row is None or row.lease_owner != claim.lease_owner or row.state != SyncState.SENDING:
        return AttemptOutcome.UNSENT
    withdrawn = no_longer_invoiced(row, shop)
    if withdrawn is not None and not (upstream is not None and invoice_finder(upstream)
                                      and had_unknown_outcome(session, row)):
        _withdraw(session, row, withdrawn, error=None)
    elif row.attempts:
        lifecycle.to_retrying(row, now, row.last_error or "")
    else:
        lifecycle.to_pending(row, now, fresh=True)
    row.updated_at = now
    return AttemptOutcome.UNSENT


def record_result(session: Session, row: OrderSync, claim: Claim, result: AttemptResult, *,
                  shop: ShopSettings, upstream: InvoiceUpstream, policy: RetryPolicy,
                  worker_id: str, now: datetime) -> AttemptOutcome:
    """Apply ``result`` to the (locked) ``row``; returns the attempt outcome recorded."""
    attempt = DispatchAttempt(
        sync_id=row.id, started_at=result.started_at, duration_ms=result.duration_ms,
        worker=worker_id, http_status=result.http_status, content_hash=claim.content_hash,
        invoice_id=result.ref.invoice_id if result.ref else None,
        error=str(result.error)[:2000] if result.error else None,
    )
    if row.lease_owner != claim.lease_owner or row.state != SyncState.SENDING:
        attempt.outcome = _late(session, row, result, shop=shop, now=now)
    else:
        attempt.outcome = _apply(session, row, claim, result, shop=shop, upstream=upstream,
                                 policy=policy, now=now)
        row.last_http_status = result.http_status
    session.add(attempt)
    return attempt.outcome


def _apply(session: Session, row: OrderSync, claim: Claim, result: AttemptResult, *,
           shop: ShopSettings, upstream: InvoiceUpstream, policy: RetryPolicy,
           now: datetime) -> AttemptOutcome:
    if result.ref is not None:
        row.attempts += 1
        lifecycle.to_synced(session, row, result.ref, sent_hash=claim.content_hash, shop=shop,
                            now=now)
        _status_left_meanwhile(session, row, shop, upstream, now)
        return created_outcome(result.ref)

    error = result.error
    if error is None:
        if not result.lookup_only:
            raise InvariantBroken("an attempt result carries neither an invoice nor an error")
        return _nothing_found(session, row, shop, now)
    if isinstance(error, UpstreamAccountError):  # whatever becomes of this row
        reason = f"{upstream.kind} refused the shop's account or endpoint: {error}"
        if set_shop_paused(session, row.shop, True, reason):
            log.error("shop dispatch paused", extra={"shop": row.shop, "reason": reason})
    settled = result.unknowns_settled
    withdrawn = no_longer_invoiced(row, shop)
    # decided now, not at a retry that would send it -- unless its invoice may exist and
    # the upstream can be asked later (then the retry only looks, as the rules below say)
    if withdrawn is not None and not _look_up_later(session, row, upstream, error, settled):
        row.attempts += 1
        return _withdraw(session, row, withdrawn, error=error, settled=settled)
    if error.ambiguous and not settles_unknown_outcomes(upstream):
        row.attempts += 1
        lifecycle.to_review(row, (
            f"outcome unknown: {error}. The invoice may or may not exist in {upstream.kind}; "
            "sending again could create a second one. Check there, then acknowledge "
            "(it exists) or resync (it does not)."))
        add_event(session, row, "state", row.last_error or "")
        return AttemptOutcome.AMBIGUOUS
    # From here on, an ambiguous answer is one the dispatcher can settle (the upstream dedupes
    # a repeat, or the next attempt looks the invoice up first); its outcome is still marked
    # unknown, so that giving up later is not called "failed".
    if isinstance(error, UpstreamAccountError):
        lifecycle.to_retrying(row, now, f"shop paused: {error}")
        return AttemptOutcome.PAUSED_UNKNOWN if error.ambiguous else AttemptOutcome.PAUSED
    if isinstance(error, UpstreamRateLimited):
        outcome = _retry_or_give_up(session, row, policy, now, str(error),
                                    retry_after=error.retry_after, count=False,
                                    unknown_now=error.ambiguous, settled=settled)
        if outcome == AttemptOutcome.THROTTLED and error.ambiguous:
            return AttemptOutcome.THROTTLE_UNKNOWN
        return outcome
    row.attempts += 1
    if error.retryable:
        outcome = _retry_or_give_up(session, row, policy, now, str(error),
                                    unknown_now=error.ambiguous, settled=settled)
        if outcome == AttemptOutcome.RETRY and error.ambiguous:
            return AttemptOutcome.RETRY_UNKNOWN
        return outcome
    _fail_unless_unknown(session, row, f"rejected by {upstream.kind}: {error}",
                         unknown_now=error.ambiguous, settled=settled)
    return AttemptOutcome.REJECTED


@dataclass(frozen=True)
class Withdrawn:
    """Why an order is no longer to be invoiced, found while its row was being sent."""

    #: what happened, for a review reason ("the order was deleted (trashed) in the shop")
    change: str
    #: the reason a skipped row shows: the intake's own words for the same decision
    skip_reason: str
    #: the order's status left invoice_statuses (the intake then forgets the payload too)
    status_left: bool


def withdrawn_at_claim(claim: Claim, shop: ShopSettings) -> bool:
    """The order was withdrawn in the shop before its row was claimed: it is to be looked
    up, never created (``no_longer_invoiced`` for the claim's copy of the row)."""
    return claim.deleted_in_shop or _status_left(claim.order_status, shop)


def _status_left(status: str | None, shop: ShopSettings | None) -> bool:
    return shop is not None and status is not None and status not in shop.invoice_statuses


def no_longer_invoiced(row: OrderSync, shop: ShopSettings | None) -> Withdrawn | None:
    """Whether the order was deleted in the shop, or its latest status is no longer one the
    shop invoices, since its row was claimed (the intake leaves a row being sent to its
    dispatcher, which decides here instead of sending it again later)."""
    if row.deleted_in_shop:
        return Withdrawn("the order was deleted (trashed) in the shop",
                         "order deleted (trashed) in the shop before it was invoiced",
                         status_left=False)
    if shop is not None and _status_left(row.order_status, shop):
        statuses = ", ".join(shop.invoice_statuses)
        return Withdrawn(
            f"the order's status changed to {row.order_status!r}, which does not create an "
            "invoice",
            f"status {row.order_status!r} does not create an invoice "
            f"(invoice_statuses: {statuses})",
            status_left=True)
    return None


def _look_up_later(session: Session, row: OrderSync, upstream: InvoiceUpstream,
                   error: UpstreamError, settled: bool) -> bool:
    """A withdrawn order whose invoice may exist (this or an earlier outcome unknown, and no
    lookup since found nothing), on an upstream that can be asked, after a failure worth
    retrying: the row is retried, and the retry only looks the invoice up."""
    if invoice_finder(upstream) is None:
        return False
    if not (error.ambiguous or (not settled and had_unknown_outcome(session, row))):
        return False
    return error.retryable or isinstance(error, (UpstreamRateLimited, UpstreamAccountError))


def _nothing_found(session: Session, row: OrderSync, shop: ShopSettings,
                   now: datetime) -> AttemptOutcome:
    """A withdrawn order's lookup found no invoice: no earlier attempt created one."""
    row.attempts += 1
    withdrawn = no_longer_invoiced(row, shop)
    if withdrawn is None:  # back in an invoiced status since the claim: to be created
        lifecycle.to_retrying(row, now, "looked up: no invoice yet, and the order is to be "
                                        "invoiced again")
        return AttemptOutcome.RETRY
    return _withdraw(session, row, withdrawn, error=None, settled=True)


def _status_left_meanwhile(session: Session, row: OrderSync, shop: ShopSettings,
                           upstream: InvoiceUpstream, now: datetime) -> None:
    """The invoice exists, but the order's status left ``invoice_statuses`` while it was
    being sent (or before its lookup): as the intake does for an invoiced order whose new
    status arrives -- a follow-up task if ``after_cancel`` asks and the upstream can, else
    ``on_change`` decides. (A deletion meanwhile is ``to_synced``'s to handle.)"""
    withdrawn = no_longer_invoiced(row, shop)
    if row.state != SyncState.SYNCED or withdrawn is None or not withdrawn.status_left:
        return
    add_event(session, row, "state", f"invoiced, but {withdrawn.change} meanwhile")
    if not plan_cancelled(session, row, shop, upstream, row.order_status, None, now):
        lifecycle.changed_after_invoice(session, row, shop,
                                        f"no longer invoiceable: {withdrawn.skip_reason}")


def _withdraw(session: Session, row: OrderSync, withdrawn: Withdrawn, *,
              error: UpstreamError | None, interrupted: str | None = None,
              settled: bool = False) -> AttemptOutcome:
    """Stop a row whose order is no longer to be invoiced instead of sending it again:
    ``skipped`` when nothing can exist upstream, else ``review`` (the invoice may exist and
    would have to be cancelled there; a person checks). Returns the attempt outcome.
    ``settled``: a lookup at the start of this attempt found no invoice."""
    unknown_now = interrupted is not None or (error is not None and error.ambiguous)
    if unknown_now or (not settled and had_unknown_outcome(session, row)):
        which = "this attempt's" if unknown_now else "an earlier attempt's"
        what = interrupted or (f"; last answer: {error}" if error is not None else "")
        lifecycle.to_review(row, (
            f"{withdrawn.change} while it was being sent, and {which} outcome is unknown"
            f"{what}. {lifecycle.MAYBE_INVOICED}"))
        add_event(session, row, "state", row.last_error or "")
        return AttemptOutcome.AMBIGUOUS if unknown_now else AttemptOutcome.WITHDRAWN
    if withdrawn.status_left:  # as the intake does for a status that does not invoice
        row.payload = None
        row.content_hash = None
    reason = withdrawn.skip_reason
    if error is not None:
        reason += f" (the last send failed and created nothing: {error})"
    lifecycle.to_skipped(row, reason)
    add_event(session, row, "state", reason)
    return AttemptOutcome.WITHDRAWN


def _retry_or_give_up(session: Session, row: OrderSync, policy: RetryPolicy, now: datetime,
                      error: str, *, retry_after: float | None = None,
                      count: bool = True, unknown_now: bool = False,
                      settled: bool = False) -> AttemptOutcome:
    decision = policy.decide(attempts=row.attempts, first_attempt_at=row.first_attempt_at,
                             now=now, retry_after=retry_after, count_attempts=count)
    if decision.retry:
        lifecycle.to_retrying(row, now + timedelta(seconds=decision.delay), error)
        return AttemptOutcome.RETRY if count else AttemptOutcome.THROTTLED
    _fail_unless_unknown(session, row, f"{decision.reason}; last error: {error}",
                         unknown_now=unknown_now, settled=settled)
    return AttemptOutcome.GAVE_UP


def _fail_unless_unknown(session: Session, row: OrderSync, reason: str, *,
                         unknown_now: bool = False, settled: bool = False) -> None:
    """``failed`` means "no invoice upstream". If any attempt since the row was last queued
    may have created one (a lost answer, a killed worker), that is not known: stop in
    ``review`` instead, so nobody re-sends it believing it was never invoiced -- unless this
    attempt began with a lookup that found no invoice (``settled``), which is knowing."""
    if unknown_now or (not settled and had_unknown_outcome(session, row)):
        lifecycle.to_review(row, (
            f"{reason}. An earlier attempt's outcome is unknown, so the invoice may exist "
            "upstream; check there, then acknowledge (it exists) or resync (it does not)."))
        add_event(session, row, "state", row.last_error or "")
    else:
        lifecycle.to_failed(row, reason)


def _late(session: Session, row: OrderSync, result: AttemptResult, *, shop: ShopSettings,
          now: datetime) -> AttemptOutcome:
    """The lease was lost (reaped or released) before this answer came back. An invoice the
    upstream confirms still settles a row that nobody else is sending."""
    if result.ref is not None and row.state in SETTLEABLE_LATE:
        lifecycle.to_synced(session, row, result.ref, sent_hash=row.content_hash, shop=shop,
                            now=now)
        add_event(session, row, "state", "a late answer confirmed the invoice")
        return AttemptOutcome.LATE_CREATED
    add_event(session, row, "reaper", f"late answer ignored (row is {row.state}): "
              f"{'invoice ' + str(result.ref.invoice_id) if result.ref else result.error}")
    return AttemptOutcome.LATE


def interrupted(session: Session, row: OrderSync, *, upstream: InvoiceUpstream | None,
                shop: ShopSettings | None, reason: str, now: datetime,
                worker_id: str) -> AttemptOutcome:
    """A dispatch ended without an answer (worker killed, or stopped past its grace period).

    The request may have reached the upstream, so this is an ambiguous failure. An order
    deleted or no longer invoiceable meanwhile is not sent again even when the upstream
    dedupes repeats (a repeat would create the invoice if the first did not): review -- or,
    if the upstream can be asked, a retry that only looks the invoice up.
    """
    row.attempts += 1
    session.add(DispatchAttempt(sync_id=row.id, started_at=now, worker=worker_id,
                                outcome=AttemptOutcome.INTERRUPTED,
                                error=reason, content_hash=row.content_hash))
    withdrawn = no_longer_invoiced(row, shop)
    if withdrawn is not None and upstream is not None and invoice_finder(upstream):
        lifecycle.to_retrying(row, now, f"interrupted: {reason}; {withdrawn.change}, so the "
                                        "invoice is looked up, never sent again")
        return AttemptOutcome.RETRY
    if withdrawn is not None:
        _withdraw(session, row, withdrawn, error=None, interrupted=f" (interrupted: {reason})")
        return AttemptOutcome.REVIEW
    if upstream is not None and settles_unknown_outcomes(upstream):
        lifecycle.to_retrying(row, now, f"interrupted: {reason}")
        return AttemptOutcome.RETRY
    lifecycle.to_review(row, (
        f"interrupted: {reason}. The invoice may or may not exist upstream; check there, then "
        "acknowledge (it exists) or resync (it does not)."))
    add_event(session, row, "reaper", row.last_error or "")
    return AttemptOutcome.REVIEW
