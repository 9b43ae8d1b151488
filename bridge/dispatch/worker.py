"""The worker: one loop that does all the background work.

Each turn it (1) imports the local spool, (2) processes received deliveries into sync rows,
(3) reaps leases whose worker died, (4) records the answers of the dispatches that finished
and claims due rows, in one transaction, and queues them on a thread pool of
``concurrency`` threads, (5) writes a heartbeat. The dispatch threads only talk to the
upstream: the answers that came back while the loop was busy are recorded in one commit, so
under load a commit serves many orders (group commit) instead of two per order. The loop
keeps ``claim_ahead`` more rows claimed and queued than running, so a thread whose answer is
back starts the next request at once instead of waiting for the loop.
Beside the loop, a thread reconciles shops with the WooCommerce REST API when configured
(``reconcile.py``). Then it sleeps until woken (the web process in ``run`` sets an event on
every delivery, a dispatch thread when its answer is back; for work made due by other
processes, on PostgreSQL a thread that LISTENs, ``listen.py``, on SQLite one that watches
the file for commits, ``watch_sqlite.py``) or the poll interval passes.

Stopping (SIGTERM, or ``stop()``): no new claims; queued rows go back unsent; in-flight
dispatches get ``shutdown_grace`` seconds to finish; any still running after that are
released as interrupted (the same ambiguous-outcome rule as a dead worker), so no lease is
left to time out.

This module is the loop only: sending is ``sending.py``, recording ``recording.py``, the
heartbeat ``heartbeat.py``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from bridge.clock import Clock
from bridge.config.model import Settings
from bridge.dispatch import outcomes
from bridge.dispatch.claims import Claim, claim_in, renew_leases
from bridge.dispatch.heartbeat import Heartbeat
from bridge.dispatch.ratelimit import RateLimiter
from bridge.dispatch.reconcile import Reconciler
from bridge.dispatch.recording import NotAllCommon, Recorded, Recorder, Sent
from bridge.dispatch.retry import RetryPolicy
from bridge.dispatch.sending import Sender
from bridge.dispatch.tasks import TaskClaim, TaskDispatcher, TaskResult
from bridge.errors import UpstreamBadResponse
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore
from bridge.storage.database import Database, sqlite_file
from bridge.storage.failures import is_outage
from bridge.upstreams.registry import UpstreamRegistry
from bridge.writeback.dispatch import WriteBackClaim, WriteBackDispatcher, WriteBackResult
from bridge.writeback.plan import Planner

if TYPE_CHECKING:
    from bridge.dispatch.listen import Listener
    from bridge.dispatch.watch_sqlite import DataVersionWatcher

log = logging.getLogger(__name__)

#: While dispatches keep the loop busy, the intake (new deliveries) and the reaping of
#: expired leases run at most this often instead of before every claim: at one claim per
#: order they cost more than the claim itself. After an idle wait they always run.
HOUSEKEEPING_INTERVAL = 0.1


@dataclass
class TurnReport:
    imported: int = 0
    processed: int = 0
    reaped: int = 0
    dispatched: int = 0
    recorded: int = 0
    #: follow-up tasks sent this turn (payments, cancellations, corrections)
    tasks: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        return bool(self.imported or self.processed or self.reaped or self.dispatched
                    or self.tasks)


class Worker:
    def __init__(self, settings: Settings, db: Database, *,
                 upstreams: UpstreamRegistry | None = None, clock: Clock | None = None,
                 wake: threading.Event | None = None, worker_id: str | None = None,
                 policy: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock or Clock()
        self.upstreams = upstreams or UpstreamRegistry(settings)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.wake = wake or threading.Event()
        self.stopping = threading.Event()
        #: set while the loop waits for work (tests watch it)
        self.idle = threading.Event()
        self.limiter = RateLimiter()
        self.sender = Sender(settings, self.upstreams, self.limiter, self.clock, self.stopping)
        policy = policy or RetryPolicy(settings.dispatch.retry)
        self.recorder = Recorder(settings, db, self.upstreams, policy, self.clock,
                                 self.worker_id)
        self.tasks = TaskDispatcher(settings, self.upstreams, self.limiter, policy,
                                    self.worker_id)
        #: the invoice (or why it is missing) written back to the shop (bridge/writeback)
        self.writebacks = WriteBackDispatcher(settings, self.limiter, policy, self.worker_id)
        self.planner = Planner(settings, self.upstreams)
        self._heartbeat = Heartbeat(db, self.worker_id, self.clock, self.limiter)
        self.processor = DeliveryProcessor(db, settings, self.upstreams, self.clock)
        self.store = DeliveryStore(db, Spool(settings.server.spool_dir))
        self.concurrency = settings.dispatch.concurrency
        #: Claimed rows waiting on the pool's queue beyond the running ones: a thread whose
        #: answer is back starts on the next row at once instead of waiting for the loop to
        #: record the answer and claim again, and the loop may fall behind by that many
        #: answers and catch up in one commit (docs/benchmarks.md). Never more than
        #: ``concurrency`` requests are in flight.
        self.capacity = self.concurrency + settings.dispatch.claim_ahead
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency,
                                        thread_name_prefix="dispatch")
        self._in_flight: dict[Future[outcomes.AttemptResult], Claim] = {}
        self._tasks_in_flight: dict[Future[TaskResult], TaskClaim] = {}
        self._writebacks_in_flight: dict[Future[WriteBackResult], WriteBackClaim] = {}
        #: answers whose recording failed on a database error; recorded on the next turn
        self._unrecorded: list[Sent] = []
        self._lock = threading.Lock()
        self._last_housekeeping = 0.0
        #: leases renewed for requests still running, by owner (``_renew_leases``)
        self._renewed: dict[str, datetime] = {}
        self.abandoned = 0
        self.listener = self._listener()

    def _listener(self) -> Listener | DataVersionWatcher | None:
        """What wakes the loop when another process makes work due (unless
        ``dispatch.listen`` is off), started by ``run``: on PostgreSQL a thread that LISTENs
        (``listen.py``), on a SQLite file one that watches it for commits
        (``watch_sqlite.py``)."""
        if not self.settings.dispatch.listen:
            return None
        if self.db.is_postgres:
            from bridge.dispatch.listen import Listener  # psycopg: only with PostgreSQL

            return Listener(self.db.engine.url, self.wake, self.stopping,
                            poll_interval=self.settings.dispatch.poll_interval)
        path = sqlite_file(self.db.url)
        if path is None:  # in memory: no other process can reach it
            return None
        from bridge.dispatch.watch_sqlite import DataVersionWatcher

        return DataVersionWatcher(path, self.wake, self.stopping, idle=self.idle)

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        """Loop until ``stop()``; survives database outages by backing off."""
        log.info("worker started", extra={"worker": self.worker_id,
                                          "concurrency": self.concurrency})
        if self.listener is not None:
            self.listener.start()
        with contextlib.suppress(DBAPIError):
            self.heartbeat(force=True)  # be counted before the first send
        reconciler = Reconciler(self.settings, self.db, self.clock)
        if reconciler.shops:
            threading.Thread(target=reconciler.run, args=(self.stopping,), name="reconcile",
                             daemon=True).start()
        backoff = 0.0
        busy = False
        while not self.stopping.is_set():
            housekeeping = not busy or self._housekeeping_due()
            try:
                report = self.turn(housekeeping=housekeeping)
                backoff = 0.0
            except Exception as exc:  # the loop must outlive anything: back off, try again
                backoff = min(30.0, max(1.0, backoff * 2))
                if isinstance(exc, DBAPIError):
                    log.warning("database unavailable; worker backing off", extra={
                        "seconds": backoff, "error": str(exc).splitlines()[0][:200]})
                else:
                    log.exception("worker turn failed; backing off",
                                  extra={"seconds": backoff})
                self.stopping.wait(backoff)
                continue
            free = self._free_slots()
            if report.busy and free > 0:
                busy = True
                continue  # there may be more to claim
            if not report.busy and not housekeeping and free == self.capacity:
                busy = False
                continue  # all done: look at the intake once more before waiting
            busy = report.busy or free < self.capacity  # dispatches still in flight
            self._idle()
        self._shutdown()

    def turn(self, *, dispatch_wait: bool = False, housekeeping: bool = True) -> TurnReport:
        """One pass over all the work. ``dispatch_wait`` waits for this turn's dispatches and
        records them (tests and ``drain`` want that; the loop does not). ``housekeeping=False``
        skips the intake and the reaping, which a busy loop does only every
        HOUSEKEEPING_INTERVAL."""
        report = TurnReport()
        if housekeeping:
            self._last_housekeeping = time.monotonic()
            report.imported = self.store.import_spool()
            report.processed = self.processor.process_pending()
            self._renew_leases()
            report.reaped = self.reap()
        claims = self._record_and_claim(report, claim=not self.stopping.is_set())
        report.dispatched = len(claims)
        futures = [self._submit(claim) for claim in claims]
        task_futures = (self._record_and_claim_tasks(report, claim=not self.stopping.is_set())
                        if housekeeping else [])
        if dispatch_wait:
            # every request in flight, those of earlier turns too: "drain" means nothing left
            with self._lock:
                in_flight: list[Future[Any]] = [*self._in_flight, *self._tasks_in_flight,
                                                *futures, *task_futures]
            if in_flight:
                wait(in_flight)
                self._record_and_claim(report, claim=False)
                self._record_and_claim_tasks(report, claim=False)
        self.heartbeat()
        report.outcomes = self.recorder.outcomes.snapshot()
        return report

    def drain(self, *, timeout: float = 60.0) -> TurnReport:
        """Work until nothing is left that is due now (tests, ``demo``, ``resync --now``)."""
        deadline = time.monotonic() + timeout
        total = TurnReport()
        while time.monotonic() < deadline:
            report = self.turn(dispatch_wait=True)
            total.imported += report.imported
            total.processed += report.processed
            total.reaped += report.reaped
            total.dispatched += report.dispatched
            total.recorded += report.recorded
            total.outcomes = report.outcomes
            if not report.busy:
                return total
        raise TimeoutError(f"work still left after {timeout:g}s")

    def _housekeeping_due(self) -> bool:
        return time.monotonic() - self._last_housekeeping >= HOUSEKEEPING_INTERVAL

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def _idle(self) -> None:
        with self._lock:
            futures = list(self._in_flight)
        timeout = self.settings.dispatch.poll_interval
        if futures and self._free_slots() == 0:
            wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
            return
        self.idle.set()
        try:
            if self.wake.wait(timeout):
                self.wake.clear()
        finally:
            self.idle.clear()

    # --- one commit per turn: the answers that came back, and the next claims -------------

    def _record_and_claim(self, report: TurnReport, *, claim: bool) -> list[Claim]:
        """Record the answers that came back and claim rows for the free slots, in one
        transaction. If that fails, the answers are recorded one transaction each, so one
        that cannot be recorded does not hold back the others."""
        finished = self._collect()
        limit = self._free_slots() if claim else 0
        if not finished and limit <= 0:
            return []
        try:
            try:
                recorded, claims = self._commit_turn(finished, limit, batched=True)
            except NotAllCommon:  # rolled back; take each answer on its own path
                recorded, claims = self._commit_turn(finished, limit, batched=False)
        except Exception as exc:
            if not finished:
                raise
            if not is_outage(exc):  # else the loop logs it, once per back-off
                log.exception("recording a turn's answers together failed; one by one now")
            recorded, left = self.recorder.record_each(finished)
            report.recorded += len(recorded)
            self.recorder.after_recording(recorded)
            if left:  # the database went away: keep them for the next turn
                with self._lock:
                    self._unrecorded[:0] = left
                raise
            return []
        report.recorded += len(recorded)
        self.recorder.after_recording(recorded)
        return claims

    def _commit_turn(self, finished: list[Sent], limit: int, *, batched: bool
                     ) -> tuple[list[Recorded], list[Claim]]:
        with self.db.transaction() as session:
            recorded = self.recorder.record_many(session, finished, batched=batched)
            session.flush()  # the claim below runs on the connection, past the ORM
            claims = claim_in(session.connection(), shops=list(self.settings.shops),
                              worker_id=self.worker_id, limit=limit,
                              lease_seconds=self.settings.dispatch.lease,
                              now=self.clock.now())
        return recorded, claims

    def _collect(self) -> list[Sent]:
        """Take the dispatches whose answer is back (and any left unrecorded before)."""
        with self._lock:
            done = [(self._in_flight.pop(f), f) for f in list(self._in_flight) if f.done()]
            finished, self._unrecorded = self._unrecorded, []
        return finished + [(claim, self._answer(future)) for claim, future in done]

    def _answer(self, future: Future[outcomes.AttemptResult]) -> outcomes.AttemptResult:
        if future.cancelled():  # still queued when the worker stopped: never sent
            return outcomes.AttemptResult(self.clock.now(), 0.0, unsent="the worker stopped")
        exc = future.exception()
        if exc is None:
            return future.result()
        log.error("dispatch crashed", exc_info=exc)
        # It may have crashed after sending: the same rule as a dispatch without an answer.
        return outcomes.AttemptResult(self.clock.now(), 0.0, error=UpstreamBadResponse(
            f"internal error: {type(exc).__name__}: {exc}", ambiguous=True))

    def _free_slots(self) -> int:
        """Rows (and tasks) the loop may claim: ``capacity`` less those running or queued."""
        with self._lock:
            return (self.capacity - len(self._in_flight) - len(self._tasks_in_flight)
                    - len(self._writebacks_in_flight))

    # --- follow-up tasks: rare, so a transaction each ------------------------------------

    def _record_and_claim_tasks(self, report: TurnReport, *,
                                claim: bool) -> list[Future[Any]]:
        with self._lock:
            done = [(future, self._tasks_in_flight.pop(future))
                    for future in list(self._tasks_in_flight) if future.done()]
        for future, task in done:
            result = (TaskResult(self.clock.now(), unsent="the worker stopped")
                      if future.cancelled() else future.result())
            with self.db.transaction() as session:
                outcome = self.tasks.record(session, task, result, now=self.clock.now())
            self.recorder.outcomes.add(f"task_{outcome}")
            log.info("follow-up task", extra={"order": f"{task.shop}/{task.order_id}",
                                               "task": task.kind, "outcome": outcome,
                                               "error": str(result.error) if result.error
                                               else None})
        limit = self._free_slots() if claim else 0
        futures: list[Future[Any]] = []
        if limit > 0:
            with self.db.transaction() as session:
                claims = self.tasks.claim(session, limit=limit, now=self.clock.now())
            report.tasks += len(claims)
            for task in claims:
                future = self._pool.submit(self._send_task, task)
                with self._lock:
                    self._tasks_in_flight[future] = task
                future.add_done_callback(lambda _: self.wake.set())
                futures.append(future)
        # write-backs ride along: a shop's order screen is the tasks' kind of work
        writebacks = self._record_and_claim_writebacks(claim=claim)
        report.tasks += len(writebacks)
        return [*futures, *writebacks]

    def _record_and_claim_writebacks(self, *, claim: bool) -> list[Future[WriteBackResult]]:
        """Write-backs to the shop: recorded and claimed like tasks, after the sweep that
        plans them (bridge/writeback)."""
        if not self.writebacks.shops:
            return []
        with self._lock:
            done = [(future, self._writebacks_in_flight.pop(future))
                    for future in list(self._writebacks_in_flight) if future.done()]
        for future, item in done:
            result = (WriteBackResult(self.clock.now(), unsent="the worker stopped")
                      if future.cancelled() else future.result())
            with self.db.transaction() as session:
                outcome = self.writebacks.record(session, item, result, now=self.clock.now())
            self.recorder.outcomes.add(f"writeback_{outcome}")
            log.info("write-back", extra={"order": f"{item.shop}/{item.order_id}",
                                          "outcome": outcome, "error": str(result.error)
                                          if result.error else None})
        limit = self._free_slots() if claim else 0
        if limit <= 0:
            return []
        with self.db.transaction() as session:
            self.planner.sweep(session, now=self.clock.now())
            claims = self.writebacks.claim(session, limit=limit, now=self.clock.now())
        futures = []
        for item in claims:
            future = self._pool.submit(self.writebacks.send, item, now=self.clock.now(),
                                       stopping=self.stopping.is_set())
            with self._lock:
                self._writebacks_in_flight[future] = item
            future.add_done_callback(lambda _: self.wake.set())
            futures.append(future)
        return futures

    def _send_task(self, task: TaskClaim) -> TaskResult:
        return self.tasks.send(task, now=self.clock.now(), stopping=self.stopping.is_set())

    def _submit(self, claim: Claim) -> Future[outcomes.AttemptResult]:
        future = self._pool.submit(self.sender.send, claim)
        with self._lock:
            self._in_flight[future] = claim
        future.add_done_callback(lambda _: self.wake.set())
        return future

    # --- leases of requests still running ---------------------------------------------------

    def _renew_leases(self) -> None:
        """Extend the lease of every claim whose request is running once half of it has
        passed: a dispatch of several requests (a lookup, a buyer, the invoice) may take
        longer than one request's timeouts, and a live worker's row must never be reaped
        and sent by another while its own request is still on the wire. A dead worker
        renews nothing, so its rows are reaped as before."""
        now = self.clock.now()
        lease = timedelta(seconds=self.settings.dispatch.lease)

        def due(owner: str, until: datetime) -> bool:
            return max(until, self._renewed.get(owner, until)) - now < lease / 2

        with self._lock:
            running = [(claim.lease_owner, claim.lease_until)
                       for future, claim in self._in_flight.items() if future.running()]
            running_tasks = [(task.lease_owner, task.lease_until)
                             for future, task in self._tasks_in_flight.items()
                             if future.running()]
            running_writebacks = [(item.lease_owner, item.lease_until)
                                  for future, item in self._writebacks_in_flight.items()
                                  if future.running()]
        owners = {owner for owner, until in running if due(owner, until)}
        task_owners = {owner for owner, until in running_tasks if due(owner, until)}
        writeback_owners = {owner for owner, until in running_writebacks if due(owner, until)}
        # forget the owners whose requests are over
        live = {owner for owner, _ in running + running_tasks + running_writebacks}
        self._renewed = {owner: until for owner, until in self._renewed.items() if owner in live}
        if owners or task_owners or writeback_owners:
            with self.db.transaction() as session:
                renew_leases(session, owners, task_owners, until=now + lease)
                self.writebacks.renew(session, writeback_owners, until=now + lease)
            self._renewed.update(dict.fromkeys(owners | task_owners | writeback_owners,
                                               now + lease))

    # --- one row at a time (tests, operator tools) ------------------------------------------

    def send(self, claim: Claim) -> outcomes.AttemptResult:
        """Send one claimed row upstream; nothing is recorded."""
        return self.sender.send(claim)

    def record(self, claim: Claim, result: outcomes.AttemptResult) -> str:
        """Record one answer in a transaction of its own."""
        return self.recorder.record(claim, result)

    def dispatch(self, claim: Claim) -> str:
        """Send one claimed row upstream and record the answer in a transaction of its own."""
        return self.record(claim, self.send(claim))

    def reap(self) -> int:
        """Settle rows (and tasks) whose lease expired: their worker died mid-dispatch."""
        with self.db.transaction() as session:
            tasks = self.tasks.reap(session, now=self.clock.now())
            tasks += self.writebacks.reap(session, now=self.clock.now())
        return self.recorder.reap() + tasks

    def heartbeat(self, *, stopped: bool = False, force: bool = False) -> None:
        self._heartbeat.beat(stopped=stopped, force=force)

    # --- stopping ------------------------------------------------------------------------

    def _shutdown(self) -> None:
        grace = self.settings.dispatch.shutdown_grace
        with self._lock:
            futures: list[Future[Any]] = [*self._in_flight, *self._tasks_in_flight,
                                          *self._writebacks_in_flight]
        for future in futures:
            future.cancel()  # only those still queued, never sent, can be cancelled
        futures = [future for future in futures if not future.cancelled()]
        if futures:
            log.info("waiting for in-flight dispatches", extra={"count": len(futures),
                                                                 "grace_seconds": grace})
            wait(futures, timeout=grace)
        try:
            self._record_and_claim(TurnReport(), claim=False)
            self._record_and_claim_tasks(TurnReport(), claim=False)
        except Exception:  # their leases expire and the reaper settles them
            log.exception("could not record the last answers before stopping")
        with self._lock:
            stuck = [claim for future, claim in self._in_flight.items() if not future.done()]
            stuck_tasks = [task for future, task in self._tasks_in_flight.items()
                           if not future.done()]
            stuck_writebacks = [item for future, item in self._writebacks_in_flight.items()
                                if not future.done()]
        if stuck:
            self.recorder.release(stuck)
        if stuck_tasks or stuck_writebacks:
            with self.db.transaction() as session:
                self.tasks.release(session, stuck_tasks, now=self.clock.now())
                self.writebacks.release(session, stuck_writebacks, now=self.clock.now())
        #: dispatches still running after release; the process should not wait for them
        self.abandoned = len(stuck) + len(stuck_tasks) + len(stuck_writebacks)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.heartbeat(stopped=True)
        self.upstreams.close()
        log.info("worker stopped", extra={"worker": self.worker_id, "released": len(stuck)})
