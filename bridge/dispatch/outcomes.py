"""What an upstream answer does to a sync row (and to its shop).

Decision table (docs/guarantees.md explains it in plain words):

| answer                                   | row becomes        | attempts counted |
|------------------------------------------|--------------------|------------------|
| created / already exists                 | synced             | yes              |
| 401/403/404 (account or endpoint)        | retrying, shop paused | no            |
| 429                                      | retrying (>= Retry-After) | no        |
| ambiguous, upstream not known to dedupe  | review             | yes              |
| other transient (5xx, refused, ambiguous with dedupe) | retrying or failed (policy) | yes |
| permanent (4xx validation)               | failed             | yes              |
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bridge import lifecycle
from bridge.config import ShopSettings
from bridge.dispatch.claims import Claim
from bridge.dispatch.retry import RetryPolicy
from bridge.errors import (
    UpstreamAccountError,
    UpstreamError,
    UpstreamRateLimited,
)
from bridge.storage.models import DispatchAttempt, OrderSync
from bridge.storage.repository import add_event, set_shop_paused
from bridge.storage.states import SyncState
from bridge.upstreams.base import InvoiceRef, InvoiceUpstream

log = logging.getLogger(__name__)

#: the states a late answer (after the lease was lost) may still settle
SETTLEABLE_LATE = (SyncState.REVIEW, SyncState.RETRYING, SyncState.PENDING, SyncState.FAILED)


@dataclass(frozen=True)
class AttemptResult:
    started_at: datetime
    duration_ms: float
    ref: InvoiceRef | None = None
    error: UpstreamError | None = None

    @property
    def http_status(self) -> int | None:
        if self.ref is not None:
            return self.ref.http_status
        return self.error.http_status if self.error is not None else None


def record_result(session: Session, row: OrderSync, claim: Claim, result: AttemptResult, *,
                  shop: ShopSettings, upstream: InvoiceUpstream, policy: RetryPolicy,
                  worker_id: str, now: datetime) -> str:
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
           now: datetime) -> str:
    if result.ref is not None:
        row.attempts += 1
        lifecycle.to_synced(session, row, result.ref, sent_hash=claim.content_hash, shop=shop,
                            now=now)
        return "exists" if result.ref.existed else "created"

    error = result.error
    assert error is not None
    if isinstance(error, UpstreamAccountError):
        reason = f"{upstream.kind} refused the shop's account or endpoint: {error}"
        if set_shop_paused(session, row.shop, True, reason):
            log.error("shop dispatch paused", extra={"shop": row.shop, "reason": reason})
        lifecycle.to_retrying(row, now, f"shop paused: {error}")
        return "paused"
    if isinstance(error, UpstreamRateLimited):
        return _retry_or_give_up(row, policy, now, str(error), retry_after=error.retry_after,
                                 count=False)
    row.attempts += 1
    if error.ambiguous and not upstream.dedupes_repeats:
        lifecycle.to_review(row, (
            f"outcome unknown: {error}. The invoice may or may not exist in {upstream.kind}; "
            "sending again could create a second one. Check there, then acknowledge "
            "(it exists) or resync (it does not)."))
        add_event(session, row, "state", row.last_error or "")
        return "ambiguous"
    if error.retryable:
        return _retry_or_give_up(row, policy, now, str(error))
    lifecycle.to_failed(row, f"rejected by {upstream.kind}: {error}")
    return "rejected"


def _retry_or_give_up(row: OrderSync, policy: RetryPolicy, now: datetime, error: str, *,
                      retry_after: float | None = None, count: bool = True) -> str:
    decision = policy.decide(attempts=row.attempts, first_attempt_at=row.first_attempt_at,
                             now=now, retry_after=retry_after, count_attempts=count)
    if not decision.retry:
        lifecycle.to_failed(row, f"{decision.reason}; last error: {error}")
        return "gave_up"
    lifecycle.to_retrying(row, now + timedelta(seconds=decision.delay), error)
    return "retry" if count else "throttled"


def _late(session: Session, row: OrderSync, result: AttemptResult, *, shop: ShopSettings,
          now: datetime) -> str:
    """The lease was lost (reaped or released) before this answer came back. An invoice the
    upstream confirms still settles a row that nobody else is sending."""
    if result.ref is not None and row.state in SETTLEABLE_LATE:
        lifecycle.to_synced(session, row, result.ref, sent_hash=row.content_hash, shop=shop,
                            now=now)
        add_event(session, row, "state", "a late answer confirmed the invoice")
        return "late_created"
    add_event(session, row, "reaper", f"late answer ignored (row is {row.state}): "
              f"{'invoice ' + str(result.ref.invoice_id) if result.ref else result.error}")
    return "late"


def interrupted(session: Session, row: OrderSync, *, upstream: InvoiceUpstream | None,
                reason: str, now: datetime, worker_id: str) -> str:
    """A dispatch ended without an answer (worker killed, or stopped past its grace period).

    The request may have reached the upstream, so this is an ambiguous failure.
    """
    row.attempts += 1
    session.add(DispatchAttempt(sync_id=row.id, started_at=now, worker=worker_id,
                                outcome="interrupted", error=reason, content_hash=row.content_hash))
    if upstream is not None and upstream.dedupes_repeats:
        lifecycle.to_retrying(row, now, f"interrupted: {reason}")
        return "retry"
    lifecycle.to_review(row, (
        f"interrupted: {reason}. The invoice may or may not exist upstream; check there, then "
        "acknowledge (it exists) or resync (it does not)."))
    add_event(session, row, "reaper", row.last_error or "")
    return "review"
