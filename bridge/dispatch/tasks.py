"""Dispatching follow-up tasks (``order_tasks``: payments, cancellations, corrections).

The same rules as invoices, on a smaller scale (a task is rare next to the invoices):

- claimed with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), only once the order's
  invoice exists (its id is what the task acts on) and never for a paused shop;
- sent on the worker's dispatch threads, within the shop's rate limit;
- a task sent before (an earlier attempt failed, or its answer was lost) is **looked up
  first** (``find_payment``, ...), and done only if the upstream does not have it;
- answers: done; transient -> retried with backoff; 429 -> retried when the upstream says,
  not counted; the shop's account refused -> the shop pauses; refused for good -> failed
  (review if an earlier outcome was unknown); a task whose lease expired (its worker died)
  is retried -- the lookup makes that safe.

Every outcome is an event on the order's row, so the admin API shows the order's history.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.config.model import Settings
from bridge.dispatch.claims import work_item_claim
from bridge.dispatch.ratelimit import RateLimiter
from bridge.dispatch.retry import RetryPolicy
from bridge.errors import (
    UpstreamAccountError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRateLimited,
)
from bridge.followups import actions
from bridge.intake.snapshots import latest_snapshot
from bridge.logs import log_context
from bridge.mapping.build import map_order
from bridge.mapping.draft import InvoiceDraft
from bridge.storage.models import TASK_IS_DUE, OrderSync, OrderTask, ShopState
from bridge.storage.repository import add_event, set_shop_paused
from bridge.storage.states import TaskState
from bridge.upstreams.port import ActionRef
from bridge.upstreams.registry import UpstreamRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskClaim:
    task_id: int
    sync_id: int
    shop: str
    order_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    unknown: bool
    lease_owner: str
    lease_until: datetime
    invoice_id: str
    #: the order as last received (correction tasks only; built by the loop)
    draft: InvoiceDraft | None = None


@dataclass(frozen=True)
class TaskResult:
    started_at: datetime
    ref: ActionRef | None = None
    error: UpstreamError | None = None
    #: never sent (the worker stopping, a lease too short to start on)
    unsent: str | None = None
    #: it began with a lookup that found nothing: earlier unknown outcomes did not do it
    unknowns_settled: bool = False


_CLAIM = work_item_claim(
    OrderTask, sending=TaskState.SENDING.value, due=TASK_IS_DUE,
    paused=select(ShopState.shop).where(ShopState.paused.is_(True)),
    # a task acts on the order's invoice: never before it exists
    also=[OrderTask.sync_id.in_(select(OrderSync.id).where(OrderSync.invoice_id.is_not(None)))],
    returning=[OrderTask.id, OrderTask.sync_id, OrderTask.shop, OrderTask.order_id,
               OrderTask.kind, OrderTask.payload, OrderTask.attempts, OrderTask.unknown])


class TaskDispatcher:
    """Claims, sends and records follow-up tasks for a worker."""

    def __init__(self, settings: Settings, upstreams: UpstreamRegistry, limiter: RateLimiter,
                 policy: RetryPolicy, worker_id: str) -> None:
        self.settings = settings
        self.upstreams = upstreams
        self.limiter = limiter
        self.policy = policy
        self.worker_id = worker_id

    # --- claiming (the loop, in a transaction) ---------------------------------------------

    def claim(self, session: Session, *, limit: int, now: datetime) -> list[TaskClaim]:
        if limit <= 0 or not self.settings.shops:
            return []
        owner = f"{self.worker_id}/t{uuid.uuid4().hex[:10]}"
        until = now + timedelta(seconds=self.settings.dispatch.lease)
        rows = session.connection().execute(_CLAIM, {
            "now": now, "shops": list(self.settings.shops), "limit": limit, "owner": owner,
            "until": until}).all()
        claims = []
        for row in rows:
            sync = session.get(OrderSync, row.sync_id)
            claim = TaskClaim(row.id, row.sync_id, row.shop, row.order_id, row.kind,
                              dict(row.payload), row.attempts, row.unknown, owner, until,
                              str(sync.invoice_id) if sync else "")
            if actions.needs_draft(row.kind) and sync is not None:
                claim = replace(claim, draft=self._draft(session, sync))
            claims.append(claim)
        return claims

    def _draft(self, session: Session, sync: OrderSync) -> InvoiceDraft | None:
        snapshot = latest_snapshot(session, sync)
        shop = self.settings.shops.get(sync.shop)
        if snapshot is None or shop is None:
            return None
        try:
            return map_order(snapshot, shop, self.upstreams.for_shop(shop.id).rules)
        except Exception:  # recorded as the task's failure when it is sent
            log.exception("the order of a correction task cannot be mapped")
            return None

    # --- sending (a dispatch thread) -----------------------------------------------------

    def send(self, claim: TaskClaim, *, now: datetime, stopping: bool) -> TaskResult:
        with log_context(order=f"{claim.shop}/{claim.order_id}", shop=claim.shop,
                         task=claim.kind):
            settings = self.settings.shops[claim.shop].upstream
            upstream = self.upstreams.for_shop(claim.shop)
            self.limiter.acquire(settings.account_key, settings.rate_limit,
                                 settings.rate_burst)
            if stopping:
                return TaskResult(now, unsent="the worker stopped")
            if now + timedelta(seconds=sum(settings.timeouts)) > claim.lease_until:
                return TaskResult(now, unsent="its lease would run out before a request")
            looked_up = False
            try:
                request = actions.request_for(claim.kind, claim.payload, claim.invoice_id,
                                              claim.draft)
                if claim.unknown or claim.attempts:
                    try:
                        found = actions.find(upstream, request)
                    except UpstreamError as exc:
                        exc.ambiguous = False  # a lookup changes nothing
                        raise
                    if found is not None:
                        return TaskResult(now, ref=replace(found, existed=True))
                    looked_up = True
                return TaskResult(now, ref=actions.perform(upstream, request))
            except UpstreamError as exc:
                if isinstance(exc, UpstreamRateLimited):
                    self.limiter.block(settings.account_key, exc.retry_after or 1.0)
                return TaskResult(now, error=exc, unknowns_settled=looked_up)
            except Exception as exc:  # our bug; it may have happened after sending
                log.exception("follow-up task failed")
                return TaskResult(now, error=UpstreamBadResponse(
                    f"internal error: {type(exc).__name__}: {exc}"[:500], ambiguous=True))

    # --- recording (the loop, a transaction per task) ------------------------------------

    def record(self, session: Session, claim: TaskClaim, result: TaskResult, *,
               now: datetime) -> str:
        task = session.get(OrderTask, claim.task_id, with_for_update=True,
                           populate_existing=True)
        if task is None:
            return "vanished"
        row = session.get(OrderSync, claim.sync_id)
        mine = task.lease_owner == claim.lease_owner and task.state == TaskState.SENDING
        if result.unsent is not None:
            if mine:
                _back_to_queue(task, now)
            return "unsent"
        if result.ref is not None:  # done, also when the lease was lost meanwhile
            if task.state in (TaskState.DONE, TaskState.SKIPPED):
                return "late"
            task.attempts += 1
            task.state, task.done_at, task.reference = TaskState.DONE, now, result.ref.reference
            task.last_error, task.last_http_status = None, result.ref.http_status
            task.next_attempt_at, task.lease_owner, task.lease_until = None, None, None
            task.updated_at = now
            _event(session, row, f"{task.kind} done upstream"
                   f"{' (it was already there)' if result.ref.existed else ''}"
                   f"{': ' + task.reference if task.reference else ''}")
            return "done"
        if not mine:
            return "late"
        error = result.error
        if error is None:
            raise ValueError("a task result carries neither a reference nor an error")
        return self._failed(session, task, row, error, now,
                            settled=result.unknowns_settled)

    def _failed(self, session: Session, task: OrderTask, row: OrderSync | None,
                error: UpstreamError, now: datetime, *, settled: bool) -> str:
        task.last_http_status = error.http_status
        # a lookup at the start of this attempt found nothing: only this answer can be unknown
        task.unknown = error.ambiguous or (task.unknown and not settled)
        upstream = self.upstreams.for_shop(task.shop)
        if isinstance(error, UpstreamAccountError):
            reason = f"{upstream.kind} refused the shop's account or endpoint: {error}"
            if set_shop_paused(session, task.shop, True, reason):
                log.error("shop dispatch paused", extra={"shop": task.shop, "reason": reason})
            _retry(task, now, now, f"shop paused: {error}")
            return "paused"
        count = not isinstance(error, UpstreamRateLimited)
        if count:
            task.attempts += 1
        if error.retryable:
            decision = self.policy.decide(
                attempts=task.attempts, first_attempt_at=task.first_attempt_at, now=now,
                retry_after=getattr(error, "retry_after", None), count_attempts=count)
            if decision.retry:
                _retry(task, now, now + timedelta(seconds=decision.delay), str(error))
                return "retry" if count else "throttled"
            return _stop(session, task, row, now, f"{decision.reason}; last error: {error}")
        return _stop(session, task, row, now, f"refused by {upstream.kind}: {error}")

    def reap(self, session: Session, *, now: datetime, limit: int = 100) -> int:
        """Tasks whose worker died mid-request: retried, looked up first."""
        tasks = list(session.execute(
            select(OrderTask).where(OrderTask.state == TaskState.SENDING,
                                    OrderTask.lease_until < now)
            .order_by(OrderTask.lease_until).limit(limit).with_for_update(skip_locked=True)
        ).scalars())
        for task in tasks:
            task.attempts += 1
            task.unknown = True
            _retry(task, now, now, f"interrupted: lease {task.lease_owner} expired "
                                   "(worker stopped mid-request); looked up before resending")
        return len(tasks)

    def release(self, session: Session, claims: list[TaskClaim], *, now: datetime) -> None:
        """Tasks still running when the worker had to stop: retried, looked up first."""
        for claim in claims:
            task = session.get(OrderTask, claim.task_id, with_for_update=True)
            if task is None or task.lease_owner != claim.lease_owner:
                continue
            task.attempts += 1
            task.unknown = True
            _retry(task, now, now, "interrupted: the worker stopped before the answer")


def _retry(task: OrderTask, now: datetime, due: datetime, error: str) -> None:
    task.state, task.next_attempt_at, task.last_error = TaskState.RETRYING, due, error[:2000]
    task.lease_owner = task.lease_until = None
    task.updated_at = now


def _back_to_queue(task: OrderTask, now: datetime) -> None:
    task.state = TaskState.RETRYING if task.attempts else TaskState.PENDING
    task.next_attempt_at, task.lease_owner, task.lease_until = now, None, None
    task.updated_at = now


def _stop(session: Session, task: OrderTask, row: OrderSync | None, now: datetime,
          reason: str) -> str:
    """Failed -- unless an attempt's outcome was unknown: then it may have been done, and a
    person looks (review)."""
    if task.unknown:
        task.state = TaskState.REVIEW
        reason += (". An earlier attempt's outcome is unknown, so it may have been done; "
                   "check upstream")
    else:
        task.state = TaskState.FAILED
    task.last_error = reason[:2000]
    task.next_attempt_at = task.lease_owner = task.lease_until = None
    task.updated_at = now
    _event(session, row, f"{task.kind} {task.state}: {task.last_error}")
    return str(task.state)


def _event(session: Session, row: OrderSync | None, detail: str) -> None:
    if row is not None:
        add_event(session, row, "task", detail)
