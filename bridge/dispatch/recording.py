"""Recording what became of dispatches: every answer, and every dispatch that never got one.

- ``record_many``: the answers of a turn inside the loop's transaction -- the invoices that
  came back in two statements however many (``outcomes.record_created_many``), every other
  answer on the general path (``outcomes.record_result``);
- ``record_each``: the same answers one transaction each, when the batch failed, so that
  one answer that cannot be recorded does not hold back the others;
- ``reap`` / ``release``: rows whose dispatch ended without an answer (a dead worker's
  expired lease; a request still running when the shutdown grace ran out);
- ``after_recording``: count, measure and log attempts once they are committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bridge import metrics
from bridge.clock import Clock
from bridge.config.model import Settings
from bridge.dispatch import outcomes
from bridge.dispatch.claims import Claim, expired_leases
from bridge.dispatch.retry import RetryPolicy
from bridge.logs import log_context
from bridge.storage.database import Database
from bridge.storage.failures import is_outage
from bridge.storage.models import OrderSync
from bridge.storage.states import AttemptOutcome
from bridge.upstreams.port import InvoiceUpstream
from bridge.upstreams.registry import UpstreamRegistry

log = logging.getLogger(__name__)

#: a dispatch whose answer is back, waiting to be recorded
Sent = tuple[Claim, outcomes.AttemptResult]
#: an answer and the attempt outcome recorded for it
Recorded = tuple[Sent, str]


class NotAllCommon(Exception):
    """A batch of answers held one whose row was not as claimed (lease lost, order
    changed); the caller rolls back and records the answers one by one."""


@dataclass
class OutcomeCounts:
    """Attempt outcomes recorded by this worker (tests and ``drain`` read them)."""

    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


class Recorder:
    def __init__(self, settings: Settings, db: Database, upstreams: UpstreamRegistry,
                 policy: RetryPolicy, clock: Clock, worker_id: str) -> None:
        self.settings = settings
        self.db = db
        self.upstreams = upstreams
        self.policy = policy
        self.clock = clock
        self.worker_id = worker_id
        self.outcomes = OutcomeCounts()

    def record_many(self, session: Session, finished: Sequence[Sent], *,
                    batched: bool) -> list[Recorded]:
        """Record ``finished`` in the caller's transaction. ``batched`` takes the invoices
        in two statements and raises ``NotAllCommon`` if one of their rows was not as
        claimed (the caller rolls back and calls again with ``batched=False``)."""
        if not batched:
            return [(sent, self.record_in(session, *sent)) for sent in finished]
        created = [sent for sent in finished if outcomes.is_created(sent[1])]
        others = [sent for sent in finished if not outcomes.is_created(sent[1])]
        recorded: list[Recorded] = []
        if created:
            done = outcomes.record_created_many(session, created, worker_id=self.worker_id,
                                                now=self.clock.now())
            if done is None:
                raise NotAllCommon
            recorded += zip(created, done, strict=True)
        recorded += [(sent, self.record_in(session, *sent)) for sent in others]
        return recorded

    def record_each(self, finished: Sequence[Sent]) -> tuple[list[Recorded], list[Sent]]:
        """Each answer in a transaction of its own. Returns what was recorded and, if the
        database went away meanwhile, the answers still to record (the caller keeps them
        for its next turn and raises)."""
        recorded: list[Recorded] = []
        for index, sent in enumerate(finished):
            try:
                with self.db.transaction() as session:
                    recorded.append((sent, self.record_in(session, *sent)))
            except Exception as exc:
                if is_outage(exc):
                    return recorded, list(finished[index:])
                # Our bug, not the database's: the row keeps its lease, which expires, and
                # the reaper settles it as interrupted (docs/guarantees.md).
                log.exception("recording a dispatch failed", extra={
                    "order": f"{sent[0].shop}/{sent[0].order_id}"})
        return recorded, []

    def record(self, claim: Claim, result: outcomes.AttemptResult) -> str:
        """Record one answer in a transaction of its own."""
        with self.db.transaction() as session:
            outcome = self.record_in(session, claim, result)
        self.after_recording([((claim, result), outcome)])
        return outcome

    def record_in(self, session: Session, claim: Claim, result: outcomes.AttemptResult) -> str:
        now = self.clock.now()
        if result.unsent is not None:
            return outcomes.record_unsent(session, claim, now=now,
                                          shop=self.settings.shops.get(claim.shop),
                                          upstream=self._upstream(claim.shop))
        outcome = outcomes.record_created(session, claim, result, worker_id=self.worker_id,
                                          now=now)
        if outcome is not None:
            return outcome
        row = session.get(OrderSync, claim.sync_id, with_for_update=True,
                          populate_existing=True)
        if row is None:
            return AttemptOutcome.VANISHED
        return outcomes.record_result(
            session, row, claim, result, shop=self.settings.shops[claim.shop],
            upstream=self.upstreams.for_shop(claim.shop), policy=self.policy,
            worker_id=self.worker_id, now=now)

    def after_recording(self, recorded: Sequence[Recorded]) -> None:
        """Count, measure and log attempts once they are committed."""
        for (claim, result), outcome in recorded:
            self.outcomes.add(outcome)
            if result.unsent is not None:
                log.info("dispatch not started; the order is due again", extra={
                    "order": f"{claim.shop}/{claim.order_id}", "reason": result.unsent})
                continue
            metrics.dispatch_attempts.labels(shop=claim.shop, outcome=outcome).inc()
            metrics.dispatch_seconds.labels(shop=claim.shop).observe(result.duration_ms / 1000)
            with log_context(order=f"{claim.shop}/{claim.order_id}", shop=claim.shop):
                log.info("dispatch attempt", extra={
                    "outcome": outcome, "http_status": result.http_status,
                    "duration_ms": round(result.duration_ms, 1),
                    "error": str(result.error) if result.error else None})

    # --- dispatches that ended without an answer ------------------------------------------

    def _upstream(self, shop: str) -> InvoiceUpstream | None:
        """The shop's upstream; None for a shop no longer configured."""
        return self.upstreams.for_shop(shop) if shop in self.settings.shops else None

    def reap(self) -> int:
        """Settle rows whose lease expired: their worker died mid-dispatch."""
        now = self.clock.now()
        with self.db.transaction() as session:
            rows = expired_leases(session, now=now)
            for row in rows:
                outcomes.interrupted(
                    session, row, upstream=self._upstream(row.shop),
                    shop=self.settings.shops.get(row.shop), now=now, worker_id=self.worker_id,
                    reason=f"lease {row.lease_owner} expired at {row.lease_until:%Y-%m-%d %H:%M:%S}"
                           " UTC (worker stopped mid-dispatch)")
        if rows:
            log.warning("reaped expired leases", extra={"count": len(rows)})
        return len(rows)

    def release(self, claims: Sequence[Claim]) -> None:
        """Settle rows whose request was still running when the worker had to stop."""
        now = self.clock.now()
        with self.db.transaction() as session:
            for claim in claims:
                row = session.get(OrderSync, claim.sync_id, with_for_update=True,
                                  populate_existing=True)
                if row is None or row.lease_owner != claim.lease_owner:
                    continue
                outcomes.interrupted(
                    session, row, upstream=self.upstreams.for_shop(claim.shop),
                    shop=self.settings.shops.get(claim.shop), now=now, worker_id=self.worker_id,
                    reason="worker stopped before the upstream answered (shutdown grace over)")
