"""The worker's dispatch rules, driven against the in-memory upstream with a fake clock."""

from __future__ import annotations

import dataclasses
import os
import threading
from concurrent import futures
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.exc import DBAPIError

from bridge.clock import FakeClock
from bridge.config.model import Settings
from bridge.config.sections import normalise_database_url
from bridge.dispatch import outcomes
from bridge.dispatch.claims import claim_due
from bridge.dispatch.retry import RetryPolicy
from bridge.dispatch.worker import Worker
from bridge.errors import (
    UpstreamAuthError,
    UpstreamConnectionError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import DispatchAttempt, OrderSync, ShopState
from bridge.storage.repository import set_shop_paused
from bridge.upstreams.port import InvoiceRef
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.samples import build_order
from tests.conftest import PG_URL_ENV, SHOP

T0 = datetime(2026, 3, 14, 16, 42, 7, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 15, tzinfo=UTC))


@pytest.fixture
def worker(settings: Settings, db: Database, memory_registry: UpstreamRegistry,
           clock: FakeClock) -> Worker:
    return Worker(settings, db, upstreams=memory_registry, clock=clock, worker_id="w1")


@pytest.fixture
def order_in(db: Database, tmp_path: Path, settings: Settings,
             memory_registry: UpstreamRegistry, clock: FakeClock) -> Any:
    """Store and process an order so its row is pending."""
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    processor = DeliveryProcessor(db, settings, memory_registry, clock)

    def _order(order_id: int = 1187, minutes: int = 0, **kwargs: Any) -> None:
        payload = build_order(order_id=order_id, date_created_gmt=T0,
                              date_modified_gmt=T0 + timedelta(minutes=minutes), **kwargs)
        store.store(IncomingDelivery(shop=SHOP, topic="order.updated",
                                     body=php_json_encode(payload)))
        processor.process_pending()
    return _order


def row(db: Database, order_id: int = 1187) -> OrderSync:
    with db.read() as session:
        return session.execute(select(OrderSync).where(OrderSync.order_id == order_id)
                               ).scalar_one()


def attempts(db: Database) -> list[DispatchAttempt]:
    with db.read() as session:
        return list(session.execute(select(DispatchAttempt).order_by(DispatchAttempt.id))
                    .scalars())


def test_sends_and_records_the_invoice(order_in: Any, worker: Worker, db: Database,
                                       memory_upstream: InMemoryUpstream) -> None:
    order_in()
    report = worker.turn(dispatch_wait=True)
    assert report.dispatched == 1
    sync = row(db)
    assert sync.state == "synced" and sync.attempts == 1
    assert sync.invoice_id == memory_upstream.invoices[0].invoice_id
    assert sync.synced_hash == sync.content_hash and sync.lease_owner is None
    [attempt] = attempts(db)
    assert attempt.outcome == "created" and attempt.invoice_id == sync.invoice_id
    assert attempt.worker == "w1" and attempt.duration_ms is not None


def test_transient_failure_retries_with_backoff(order_in: Any, worker: Worker, db: Database,
                                                memory_upstream: InMemoryUpstream,
                                                clock: FakeClock) -> None:
    order_in()
    memory_upstream.fail_next(UpstreamUnavailable("HTTP 503", http_status=503))
    worker.turn(dispatch_wait=True)
    sync = row(db)
    assert sync.state == "retrying" and sync.attempts == 1 and sync.last_http_status == 503
    assert clock.now() <= sync.next_attempt_at <= clock.now() + timedelta(seconds=30)
    clock.advance(30)
    worker.turn(dispatch_wait=True)
    sync = row(db)
    assert sync.state == "synced" and sync.attempts == 2
    assert [a.outcome for a in attempts(db)] == ["retry", "created"]


def test_not_retried_before_it_is_due(order_in: Any, worker: Worker, db: Database,
                                      memory_upstream: InMemoryUpstream,
                                      clock: FakeClock) -> None:
    order_in()
    memory_upstream.fail_next(UpstreamConnectionError("refused", ambiguous=False))
    worker.turn(dispatch_wait=True)
    due = row(db).next_attempt_at
    clock.advance(max(0.0, (due - clock.now()).total_seconds() - 0.5))
    if due > clock.now():
        assert worker.turn(dispatch_wait=True).dispatched == 0


def test_gives_up_after_max_attempts(make_settings: Any, db: Database, order_in: Any,
                                     memory_registry: UpstreamRegistry,
                                     memory_upstream: InMemoryUpstream, clock: FakeClock) -> None:
    settings = make_settings({"dispatch": {"retry": {"max_attempts": 3}}})
    worker = Worker(settings, db, upstreams=memory_registry, clock=clock)
    order_in()
    memory_upstream.fail_next(*[UpstreamUnavailable("HTTP 500", http_status=500)] * 3)
    for _ in range(3):
        worker.turn(dispatch_wait=True)
        clock.advance(3600)
    sync = row(db)
    assert sync.state == "failed" and sync.attempts == 3
    assert "gave up after 3 attempts" in sync.last_error and "HTTP 500" in sync.last_error
    assert memory_upstream.invoices == []


def test_rejection_is_permanent_with_the_upstream_message(order_in: Any, worker: Worker,
                                                          db: Database,
                                                          memory_upstream: InMemoryUpstream,
                                                          clock: FakeClock) -> None:
    order_in()
    memory_upstream.fail_next(UpstreamRejected("HTTP 400: order.billing.email: required",
                                               http_status=400))
    worker.turn(dispatch_wait=True)
    sync = row(db)
    assert sync.state == "failed" and sync.next_attempt_at is None
    assert "order.billing.email: required" in sync.last_error
    clock.advance(86400)
    assert worker.turn(dispatch_wait=True).dispatched == 0


def test_ambiguous_failure_without_dedupe_stops_for_review(order_in: Any, worker: Worker,
                                                           db: Database,
                                                           memory_upstream: InMemoryUpstream,
                                                           clock: FakeClock) -> None:
    memory_upstream.repeated_order = "create_new"
    order_in()
    memory_upstream.fail_next(UpstreamTimeout("no answer in time", ambiguous=True),
                              after_create=True)
    worker.turn(dispatch_wait=True)
    sync = row(db)
    assert sync.state == "review" and "outcome unknown" in sync.last_error
    clock.advance(86400)
    worker.turn(dispatch_wait=True)
    assert len(memory_upstream.invoices) == 1  # never re-sent: no duplicate


def test_ambiguous_failure_with_dedupe_retries_and_settles(order_in: Any, worker: Worker,
                                                           db: Database,
                                                           memory_upstream: InMemoryUpstream,
                                                           clock: FakeClock) -> None:
    memory_upstream.repeated_order = "return_existing"
    order_in()
    memory_upstream.fail_next(UpstreamConnectionError("connection lost", ambiguous=True),
                              after_create=True)
    worker.turn(dispatch_wait=True)
    assert row(db).state == "retrying"
    clock.advance(60)
    worker.turn(dispatch_wait=True)
    sync = row(db)
    assert sync.state == "synced" and sync.invoice_id == memory_upstream.invoices[0].invoice_id
    assert len(memory_upstream.invoices) == 1
    assert [a.outcome for a in attempts(db)] == ["retry_unknown", "exists"]


def test_auth_failure_pauses_the_shop_without_burning_attempts(order_in: Any, worker: Worker,
                                                               db: Database,
                                                               memory_upstream: InMemoryUpstream,
                                                               clock: FakeClock) -> None:
    order_in(1)
    order_in(2)
    # Both rows are in flight in the same turn; a bad key fails every request of the account.
    memory_upstream.fail_next(*[UpstreamAuthError("HTTP 401: Incorrect or missing API key",
                                                  http_status=401)] * 2)
    worker.turn(dispatch_wait=True)
    with db.read() as session:
        state = session.get(ShopState, SHOP)
        assert state.paused and "Incorrect or missing API key" in state.paused_reason
    clock.advance(3600)
    assert worker.turn(dispatch_wait=True).dispatched == 0  # paused: nothing claimed
    assert {row(db, 1).attempts, row(db, 2).attempts} == {0}
    with db.transaction() as session:
        set_shop_paused(session, SHOP, False, None)
    worker.drain()
    assert row(db, 1).state == row(db, 2).state == "synced"


def test_rate_limited_is_throttled_not_counted(order_in: Any, worker: Worker, db: Database,
                                               memory_upstream: InMemoryUpstream,
                                               clock: FakeClock) -> None:
    order_in()
    memory_upstream.fail_next(UpstreamRateLimited("HTTP 429", retry_after=120))
    worker.turn(dispatch_wait=True)
    sync = row(db)
    assert sync.state == "retrying" and sync.attempts == 0
    assert sync.next_attempt_at == clock.now() + timedelta(seconds=120)
    assert attempts(db)[0].outcome == "throttled"


def test_dead_workers_lease_is_reaped(order_in: Any, worker: Worker, db: Database,
                                      settings: Settings, clock: FakeClock,
                                      memory_upstream: InMemoryUpstream) -> None:
    order_in()
    # A worker claims the row and dies (kill -9) before answering.
    [claim] = claim_due(db, shops=[SHOP], worker_id="dead", limit=5, lease_seconds=30,
                        now=clock.now())
    assert row(db).state == "sending" and row(db).lease_owner == claim.lease_owner
    clock.advance(10)
    assert worker.reap() == 0  # lease still valid: never processed by two workers at once
    assert worker.turn(dispatch_wait=True).dispatched == 0
    clock.advance(25)
    assert worker.reap() == 1
    sync = row(db)
    assert sync.state == "review" and "worker stopped mid-dispatch" in sync.last_error
    assert sync.lease_owner is None and attempts(db)[-1].outcome == "interrupted"
    assert memory_upstream.calls == 0


def test_reaped_row_is_resent_when_the_upstream_dedupes(order_in: Any, worker: Worker,
                                                        db: Database, clock: FakeClock,
                                                        memory_upstream: InMemoryUpstream) -> None:
    memory_upstream.repeated_order = "return_existing"
    order_in()
    claim_due(db, shops=[SHOP], worker_id="dead", limit=5, lease_seconds=30, now=clock.now())
    clock.advance(31)
    worker.drain()
    assert row(db).state == "synced" and len(memory_upstream.invoices) == 1


def test_late_answer_after_reaping_still_settles(order_in: Any, worker: Worker, db: Database,
                                                 clock: FakeClock,
                                                 memory_upstream: InMemoryUpstream) -> None:
    order_in()
    [claim] = claim_due(db, shops=[SHOP], worker_id="slow", limit=5, lease_seconds=60,
                        now=clock.now())
    answer = worker.send(claim)  # a slow worker sends ...
    clock.advance(61)
    worker.reap()
    assert row(db).state == "review"
    assert worker.record(claim, answer) == "late_created"  # ... and its answer arrives late
    sync = row(db)
    assert sync.state == "synced" and sync.invoice_id == memory_upstream.invoices[0].invoice_id


def test_two_claims_never_take_the_same_row(order_in: Any, db: Database,
                                            clock: FakeClock) -> None:
    for order_id in range(1, 6):
        order_in(order_id)
    first = claim_due(db, shops=[SHOP], worker_id="a", limit=3, lease_seconds=30, now=clock.now())
    second = claim_due(db, shops=[SHOP], worker_id="b", limit=10, lease_seconds=30,
                       now=clock.now())
    assert len(first) == 3 and len(second) == 2
    assert not {c.sync_id for c in first} & {c.sync_id for c in second}


@pytest.mark.parametrize("existed", [False, True])
def test_the_fast_success_path_records_what_the_general_one_does(
        order_in: Any, db: Database, clock: FakeClock, settings: Settings,
        memory_registry: UpstreamRegistry, existed: bool) -> None:
    order_in(1)
    order_in(2)
    claims = claim_due(db, shops=[SHOP], worker_id="w1", limit=2, lease_seconds=30,
                       now=clock.now())
    result = outcomes.AttemptResult(clock.now(), 12.5, InvoiceRef(
        "inv-hash", "EC-7", existed=existed, http_status=200))
    with db.transaction() as session:
        fast = outcomes.record_created(session, claims[0], result, worker_id="w1",
                                       now=clock.now())
        general = session.get(OrderSync, claims[1].sync_id)
        assert general is not None
        slow = outcomes.record_result(
            session, general, claims[1], result, shop=settings.shops[SHOP],
            upstream=memory_registry.for_shop(SHOP), policy=RetryPolicy(settings.dispatch.retry),
            worker_id="w1", now=clock.now())
    assert fast == slow == ("exists" if existed else "created")
    compared = ("state", "invoice_id", "invoice_number", "attempts", "next_attempt_at",
                "lease_owner", "lease_until", "last_error", "last_http_status", "synced_at")
    one, two = row(db, 1), row(db, 2)
    assert {k: getattr(one, k) for k in compared} == {k: getattr(two, k) for k in compared}
    assert one.synced_hash == one.content_hash and two.synced_hash == two.content_hash
    first, second = attempts(db)
    assert ((first.outcome, first.invoice_id, first.http_status, first.duration_ms)
            == (second.outcome, second.invoice_id, second.http_status, second.duration_ms))


def test_the_fast_success_path_leaves_a_lost_lease_to_the_general_one(
        order_in: Any, db: Database, clock: FakeClock) -> None:
    order_in(1)
    [claim] = claim_due(db, shops=[SHOP], worker_id="w1", limit=1, lease_seconds=30,
                        now=clock.now())
    stale = dataclasses.replace(claim, lease_owner="someone-else/1")
    result = outcomes.AttemptResult(clock.now(), 1.0, InvoiceRef("inv", http_status=200))
    with db.transaction() as session:
        assert outcomes.record_created(session, stale, result, worker_id="w1",
                                       now=clock.now()) is None
    assert row(db, 1).state == "sending" and attempts(db) == []


def test_order_changed_while_sending_goes_to_review(order_in: Any, worker: Worker, db: Database,
                                                    clock: FakeClock) -> None:
    order_in()
    [claim] = claim_due(db, shops=[SHOP], worker_id="w1", limit=1, lease_seconds=30,
                        now=clock.now())
    order_in(minutes=5, customer_note="Actually, please call first")  # arrives mid-send
    worker.dispatch(claim)
    sync = row(db)
    assert sync.state == "review" and "changed while it was being sent" in sync.last_error


@dataclasses.dataclass
class HangingUpstream(InMemoryUpstream):
    """Answers only once released: a request still in flight when the worker stops."""

    kind: str = "econt"
    entered: threading.Event = dataclasses.field(default_factory=threading.Event)
    release: threading.Event = dataclasses.field(default_factory=threading.Event)

    def create_invoice(self, payload: Any) -> Any:
        self.entered.set()
        self.release.wait(10)
        return super().create_invoice(payload)


def stop_while_hung(settings: Settings, db: Database) -> None:
    """Run a worker until its first request hangs, then stop it (SIGTERM's path)."""
    hanging = HangingUpstream()
    worker = Worker(settings, db, upstreams=UpstreamRegistry(settings,
                                                             overrides={SHOP: hanging}))
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert hanging.entered.wait(10)
        worker.stop()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        hanging.release.set()


def test_graceful_stop_releases_a_hung_dispatch(make_settings: Any, db: Database,
                                                order_in: Any) -> None:
    settings = make_settings({"dispatch": {"shutdown_grace": "200ms", "poll_interval": "20ms"}})
    order_in()
    stop_while_hung(settings, db)
    sync = row(db)
    assert sync.state == "review" and sync.lease_owner is None and sync.lease_until is None
    assert "shutdown grace over" in sync.last_error


def test_giving_up_after_an_unknown_outcome_stops_for_review(make_settings: Any, db: Database,
                                                             order_in: Any,
                                                             memory_registry: UpstreamRegistry,
                                                             memory_upstream: InMemoryUpstream,
                                                             clock: FakeClock) -> None:
    # The first try may have created the invoice (connection lost after sending); the
    # retries then cannot even connect. "failed" would be a lie: the invoice may exist.
    memory_upstream.repeated_order = "return_existing"
    settings = make_settings({"dispatch": {"retry": {"max_attempts": 3}}})
    worker = Worker(settings, db, upstreams=memory_registry, clock=clock)
    order_in()
    memory_upstream.fail_next(UpstreamConnectionError("connection lost", ambiguous=True),
                              after_create=True)
    memory_upstream.fail_next(*[UpstreamConnectionError("refused", ambiguous=False)] * 2)
    for _ in range(3):
        worker.turn(dispatch_wait=True)
        clock.advance(3600)
    sync = row(db)
    assert sync.state == "review" and "outcome is unknown" in sync.last_error
    assert [a.outcome for a in attempts(db)] == ["retry_unknown", "retry", "gave_up"]


def test_giving_up_with_an_unknown_last_attempt_stops_for_review(
        make_settings: Any, db: Database, order_in: Any, memory_registry: UpstreamRegistry,
        memory_upstream: InMemoryUpstream, clock: FakeClock) -> None:
    memory_upstream.repeated_order = "return_existing"
    settings = make_settings({"dispatch": {"retry": {"max_attempts": 1}}})
    worker = Worker(settings, db, upstreams=memory_registry, clock=clock)
    order_in()
    memory_upstream.fail_next(UpstreamTimeout("no answer", ambiguous=True), after_create=True)
    worker.turn(dispatch_wait=True)
    assert row(db).state == "review"


def test_rejection_after_an_unknown_outcome_stops_for_review(order_in: Any, worker: Worker,
                                                             db: Database, clock: FakeClock,
                                                             memory_upstream: InMemoryUpstream
                                                             ) -> None:
    # Found by the fault suite: a worker killed after the upstream created the invoice; the
    # re-send (the upstream dedupes) met a 422. "failed" would hide an existing invoice.
    memory_upstream.repeated_order = "return_existing"
    order_in()
    claim_due(db, shops=[SHOP], worker_id="dead", limit=1, lease_seconds=30, now=clock.now())
    clock.advance(31)
    worker.reap()
    memory_upstream.fail_next(UpstreamRejected("HTTP 422: refused", http_status=422))
    worker.turn(dispatch_wait=True)
    sync = row(db)
    assert sync.state == "review" and "outcome is unknown" in sync.last_error


def test_a_claim_reads_the_due_index_in_order_without_sorting(
        db: Database, order_in: Any, clock: FakeClock) -> None:
    """However long the backlog, a claim reads its first few due rows off ix_order_sync_due.
    A plan that sorted every due row made claims 30x slower at 20,000 due (benchmarks.md)."""
    order_in(1)
    executed: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE ORDER_SYNC"):
            executed.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        claim_due(db, shops=[SHOP], worker_id="w1", limit=4, lease_seconds=30, now=clock.now())
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    [(statement, parameters)] = executed
    with db.engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        if db.is_postgres:
            cursor.execute("SET enable_seqscan = off")  # a tiny table: ask for the index plan
            cursor.execute("EXPLAIN " + statement, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = "\n".join(str(row) for row in cursor.fetchall())
        connection.rollback()
    assert "ix_order_sync_due" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def _answers_back(worker: Worker) -> None:
    """Wait until every dispatch the worker has in flight has its answer."""
    futures.wait(list(worker._in_flight), timeout=10)


def test_answers_and_the_next_claims_share_one_commit(order_in: Any, worker: Worker,
                                                       db: Database,
                                                       memory_upstream: InMemoryUpstream) -> None:
    """Group commit for dispatch: the answers that came back while the loop was busy are
    recorded, and the freed slots refilled, in one transaction -- not two per order."""
    for order_id in range(1, 13):
        order_in(order_id)
    # 4 running and 4 queued: a thread never waits for the loop to claim again
    assert worker.turn().dispatched == worker.capacity == 8
    _answers_back(worker)
    commits: list[object] = []

    def count(connection: Any) -> None:
        commits.append(connection)

    event.listen(db.engine, "commit", count)
    try:
        report = worker.turn(housekeeping=False)
    finally:
        event.remove(db.engine, "commit", count)
    assert (report.recorded, report.dispatched, len(commits)) == (8, 4, 1)
    worker.drain()
    with db.read() as session:
        states = session.execute(select(OrderSync.state)).scalars().all()
    assert states == ["synced"] * 12
    assert len(attempts(db)) == memory_upstream.calls == 12


# PostgreSQL only: a database server can be told to refuse connections, a file cannot.
@pytest.mark.parametrize("any_db_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_answers_wait_out_a_database_outage_and_are_not_sent_again(
        order_in: Any, worker: Worker, db: Database, memory_upstream: InMemoryUpstream) -> None:
    order_in(1)
    assert worker.turn().dispatched == 1
    _answers_back(worker)
    name = db.engine.url.database
    server = create_engine(normalise_database_url(os.environ[PG_URL_ENV]),
                           isolation_level="AUTOCOMMIT")
    with server.connect() as admin:
        admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        db.engine.dispose()  # our pooled connections go; no new ones are let in
        with pytest.raises(DBAPIError, match="not currently accepting connections"):
            worker.turn(housekeeping=False)
        admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    server.dispose()
    assert row(db, 1).state == "sending"  # the answer is in memory, not lost
    report = worker.turn(housekeeping=False)
    assert report.recorded == 1 and row(db, 1).state == "synced"
    assert memory_upstream.calls == 1 and [a.outcome for a in attempts(db)] == ["created"]


def test_a_batch_with_one_lost_lease_is_recorded_answer_by_answer(
        order_in: Any, worker: Worker, db: Database) -> None:
    """Two invoices come back in one turn, but one row's lease was taken over meanwhile: the
    batched statement must not half-apply. The turn rolls back and records each on its own
    path -- the first is synced, the second is a late answer for a row someone else holds."""
    order_in(1)
    order_in(2)
    assert worker.turn().dispatched == 2
    _answers_back(worker)
    with db.transaction() as session:
        session.execute(update(OrderSync).where(OrderSync.order_id == 2)
                        .values(lease_owner="other-worker/1"))
    report = worker.turn(housekeeping=False)
    assert report.recorded == 2 and report.outcomes == {"created": 1, "late": 1}
    assert row(db, 1).state == "synced"
    second = row(db, 2)
    assert (second.state, second.lease_owner, second.invoice_id) == (
        "sending", "other-worker/1", None)
    assert sorted(a.outcome for a in attempts(db)) == ["created", "late"]


def test_a_claim_whose_lease_cannot_cover_a_request_is_not_sent(
        order_in: Any, worker: Worker, db: Database, clock: FakeClock,
        memory_upstream: InMemoryUpstream, settings: Settings) -> None:
    """A row that waited (queued behind running requests, or held by the rate limit) until
    its lease is shorter than the longest request is put back, not sent: sent, it could be
    reaped mid-flight and end up in review for nothing."""
    order_in()
    [claim] = claim_due(db, shops=[SHOP], worker_id="w1", limit=1, lease_seconds=60,
                        now=clock.now())
    longest = settings.dispatch.connect_timeout + settings.dispatch.read_timeout
    clock.advance(60 - longest + 1)
    assert worker.dispatch(claim) == "unsent"
    assert memory_upstream.calls == 0 and attempts(db) == []
    sync = row(db)
    assert (sync.state, sync.attempts, sync.lease_owner, sync.first_attempt_at) == (
        "pending", 0, None, None)
    assert sync.next_attempt_at == clock.now()
    worker.drain()
    assert row(db).state == "synced" and memory_upstream.calls == 1


def test_an_unsent_row_deleted_in_the_shop_meanwhile_is_skipped(
        order_in: Any, worker: Worker, db: Database, clock: FakeClock, tmp_path: Path,
        settings: Settings, memory_registry: UpstreamRegistry,
        memory_upstream: InMemoryUpstream) -> None:
    order_in()
    [claim] = claim_due(db, shops=[SHOP], worker_id="w1", limit=1, lease_seconds=60,
                        now=clock.now())
    # trashed while the row waited: the intake leaves a row being sent to its dispatcher
    DeliveryStore(db, Spool(tmp_path / "spool")).store(IncomingDelivery(
        shop=SHOP, topic="order.deleted", body=php_json_encode({"id": 1187})))
    DeliveryProcessor(db, settings, memory_registry, clock).process_pending()
    assert row(db).state == "sending" and row(db).deleted_in_shop
    clock.advance(59)  # too little lease left to start
    assert worker.dispatch(claim) == "unsent"
    sync = row(db)
    assert sync.state == "skipped" and "deleted" in sync.last_error
    worker.drain()
    assert memory_upstream.calls == 0


def test_stopping_puts_queued_claims_back_unsent(make_settings: Any, db: Database,
                                                 order_in: Any) -> None:
    settings = make_settings({"dispatch": {"concurrency": 1, "shutdown_grace": "200ms",
                                           "poll_interval": "20ms"}})
    order_in(1)
    order_in(2)
    stop_while_hung(settings, db)  # order 1 is being sent, order 2 waits on the queue
    sent, queued = row(db, 1), row(db, 2)
    assert sent.state == "review" and "shutdown grace over" in sent.last_error
    assert (queued.state, queued.attempts, queued.lease_owner) == ("pending", 0, None)
    assert [a.sync_id for a in attempts(db)] == [sent.id]


def test_claim_ahead_is_how_many_rows_wait_beyond_those_in_flight(
        make_settings: Any, db: Database, order_in: Any, memory_registry: UpstreamRegistry,
        clock: FakeClock) -> None:
    for order_id in range(1, 11):
        order_in(order_id)
    for claim_ahead, claimed in ((0, 4), (2, 6)):
        settings = make_settings({"dispatch": {"concurrency": 4, "claim_ahead": claim_ahead}})
        worker = Worker(settings, db, upstreams=memory_registry, clock=clock)
        assert worker.turn(dispatch_wait=True).dispatched == claimed


def test_a_request_longer_than_its_lease_keeps_the_lease_of_a_live_worker(
        order_in: Any, settings: Settings, db: Database, clock: FakeClock) -> None:
    """A dispatch of several requests may outlast one lease; the worker that is still
    waiting for its answer renews it, so no other worker reaps the row and sends it again."""
    hanging = HangingUpstream()
    worker = Worker(settings, db, upstreams=UpstreamRegistry(settings,
                                                             overrides={SHOP: hanging}),
                    clock=clock, worker_id="w1")
    other = Worker(settings, db, clock=clock, worker_id="w2")
    order_in()
    try:
        worker.turn()
        assert hanging.entered.wait(10)
        for _ in range(3):  # three lease lengths pass while the request hangs
            clock.advance(settings.dispatch.lease * 0.6)
            worker.turn()  # the live worker renews (and reaps nothing of its own)
            clock.advance(settings.dispatch.lease * 0.4)
            assert other.reap() == 0
            assert row(db).state == "sending"
    finally:
        hanging.release.set()
    worker.drain()
    assert row(db).state == "synced" and len(hanging.invoices) == 1
    assert [a.outcome for a in attempts(db)] == ["created"]


def test_drain_waits_for_a_request_sent_on_an_earlier_turn(
        order_in: Any, settings: Settings, db: Database, clock: FakeClock) -> None:
    """``drain`` means "nothing left": a request still in flight from an earlier turn is
    waited for and recorded, not left behind as ``sending`` (a flaky test found this)."""
    hanging = HangingUpstream()
    worker = Worker(settings, db, upstreams=UpstreamRegistry(settings,
                                                             overrides={SHOP: hanging}),
                    clock=clock, worker_id="w1")
    order_in()
    worker.turn()  # the request starts and hangs
    assert hanging.entered.wait(10)
    # answered only after drain has begun: drain must wait for it, whatever the timing
    releaser = threading.Timer(0.3, hanging.release.set)
    releaser.start()
    try:
        worker.drain()
    finally:
        releaser.join()
    assert row(db).state == "synced" and len(hanging.invoices) == 1
