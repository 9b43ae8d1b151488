"""An order deleted in the shop, or whose status left ``invoice_statuses``, while its row was
being sent: the intake leaves such a row to its dispatcher, which decides when the attempt
ends -- never by sending it again later. Nothing can exist upstream: ``skipped``, as the
intake would have done. The invoice may exist (this or an earlier attempt's outcome is
unknown): ``review``. On SQLite and PostgreSQL (tests/integration/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.config.model import Settings
from bridge.dispatch.claims import Claim, claim_due
from bridge.dispatch.worker import Worker
from bridge.errors import (
    UpstreamConnectionError,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import DispatchAttempt, OrderSync
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.samples import build_order
from tests.conftest import SHOP

T0 = datetime(2026, 3, 14, 16, 42, 7, tzinfo=UTC)
ORDER = 1187


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 15, tzinfo=UTC))


@pytest.fixture
def worker(settings: Settings, db: Database, memory_registry: UpstreamRegistry,
           clock: FakeClock) -> Worker:
    return Worker(settings, db, upstreams=memory_registry, clock=clock, worker_id="w1")


@pytest.fixture
def shop(db: Database, tmp_path: Path, settings: Settings, memory_registry: UpstreamRegistry,
         clock: FakeClock) -> Any:
    """What the shop does, delivered and processed as webhooks."""
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    processor = DeliveryProcessor(db, settings, memory_registry, clock)

    class Shop:
        def deliver(self, topic: str, payload: dict[str, Any]) -> None:
            store.store(IncomingDelivery(shop=SHOP, topic=topic, body=php_json_encode(payload)))
            processor.process_pending()

        def order(self, minutes: int = 0, status: str = "processing") -> None:
            self.deliver("order.updated", build_order(
                order_id=ORDER, status=status, date_created_gmt=T0,
                date_modified_gmt=T0 + timedelta(minutes=minutes)))

        def delete(self) -> None:
            self.deliver("order.deleted", {"id": ORDER})

        def cancel(self) -> None:
            self.order(minutes=5, status="cancelled")

    return Shop()


def claim(db: Database, clock: FakeClock, worker_id: str = "w1") -> Claim:
    [claimed] = claim_due(db, shops=[SHOP], worker_id=worker_id, limit=1, lease_seconds=60,
                          now=clock.now())
    return claimed


def row(db: Database) -> OrderSync:
    with db.read() as session:
        return session.execute(select(OrderSync).where(OrderSync.order_id == ORDER)
                               ).scalar_one()


def outcomes(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.execute(select(DispatchAttempt.outcome).order_by(
            DispatchAttempt.id)).scalars())


def withdraw(shop: Any, how: str) -> None:
    shop.delete() if how == "deleted" else shop.cancel()


#: how the order leaves the invoiced set, and the words of the reason a row then shows
HOW = [pytest.param("deleted", "deleted (trashed) in the shop", id="deleted"),
       pytest.param("cancelled", "status 'cancelled'", id="status-cancelled")]
#: answers that prove nothing was created
PROVEN = [
    pytest.param(UpstreamUnavailable("HTTP 503: down", http_status=503), id="503"),
    pytest.param(UpstreamRateLimited("HTTP 429: slow down", retry_after=60), id="429"),
    pytest.param(UpstreamRejected("HTTP 422: refused", http_status=422), id="422"),
    pytest.param(UpstreamConnectionError("refused", ambiguous=False), id="refused"),
]


@pytest.mark.parametrize("error", PROVEN)
@pytest.mark.parametrize(("how", "words"), HOW)
def test_a_failure_that_created_nothing_skips_the_row_instead_of_retrying(
        shop: Any, worker: Worker, db: Database, clock: FakeClock,
        memory_upstream: InMemoryUpstream, how: str, words: str, error: UpstreamError) -> None:
    shop.order()
    in_flight = claim(db, clock)
    withdraw(shop, how)
    assert row(db).state == "sending"  # the intake left it to the dispatcher
    memory_upstream.fail_next(error)
    assert worker.dispatch(in_flight) == "withdrawn"
    sync = row(db)
    assert sync.state == "skipped" and words in sync.last_error
    assert "created nothing" in sync.last_error and sync.next_attempt_at is None
    if how == "cancelled":  # as the intake leaves a skipped status: nothing to send
        assert sync.payload is None and sync.content_hash is None
    clock.advance(86400)
    worker.drain()
    assert memory_upstream.calls == 1 and memory_upstream.invoices == []


@pytest.mark.parametrize("repeated_order", ["return_existing", "create_new"])
@pytest.mark.parametrize(("how", "words"), HOW)
def test_an_unknown_outcome_stops_in_review_saying_the_order_left(
        shop: Any, worker: Worker, db: Database, clock: FakeClock,
        memory_upstream: InMemoryUpstream, how: str, words: str, repeated_order: str) -> None:
    # Even when repeats are harmless: sending again would create the invoice of an order
    # the shop no longer wants invoiced, if the first try did not.
    memory_upstream.repeated_order = repeated_order
    shop.order()
    in_flight = claim(db, clock)
    withdraw(shop, how)
    memory_upstream.fail_next(UpstreamTimeout("no answer in time", ambiguous=True))
    assert worker.dispatch(in_flight) == "ambiguous"
    sync = row(db)
    assert sync.state == "review"
    assert "while it was being sent" in sync.last_error
    assert "invoice may exist" in sync.last_error and "no answer in time" in sync.last_error
    clock.advance(86400)
    worker.drain()
    assert memory_upstream.calls == 1


@pytest.mark.parametrize(("how", "words"), HOW)
def test_a_clean_failure_after_an_earlier_unknown_outcome_stops_in_review(
        shop: Any, worker: Worker, db: Database, clock: FakeClock,
        memory_upstream: InMemoryUpstream, how: str, words: str) -> None:
    memory_upstream.repeated_order = "return_existing"
    shop.order()
    memory_upstream.fail_next(UpstreamConnectionError("connection lost", ambiguous=True),
                              after_create=True)
    worker.turn(dispatch_wait=True)
    assert row(db).state == "retrying"  # the upstream dedupes: a retry is safe ...
    clock.advance(3600)
    in_flight = claim(db, clock)
    withdraw(shop, how)  # ... until the order is withdrawn while the retry is in flight
    memory_upstream.fail_next(UpstreamUnavailable("HTTP 503: down", http_status=503))
    assert worker.dispatch(in_flight) == "withdrawn"
    sync = row(db)
    assert sync.state == "review" and "an earlier attempt's outcome is unknown" in sync.last_error
    assert len(memory_upstream.invoices) == 1 and memory_upstream.calls == 2
    assert outcomes(db) == ["retry_unknown", "withdrawn"]


@pytest.mark.parametrize(("how", "words"), HOW)
def test_a_reaped_row_whose_order_left_is_not_resent_even_when_repeats_are_safe(
        shop: Any, worker: Worker, db: Database, clock: FakeClock,
        memory_upstream: InMemoryUpstream, how: str, words: str) -> None:
    memory_upstream.repeated_order = "return_existing"
    shop.order()
    claim(db, clock, worker_id="dead")  # its worker is killed mid-send ...
    withdraw(shop, how)  # ... while the order is withdrawn in the shop
    clock.advance(61)
    assert worker.reap() == 1
    sync = row(db)
    assert sync.state == "review" and "worker stopped mid-dispatch" in sync.last_error
    assert "while it was being sent" in sync.last_error
    worker.drain()
    assert memory_upstream.calls == 0 and outcomes(db) == ["interrupted"]


def test_an_unsent_row_whose_status_left_is_skipped(
        shop: Any, worker: Worker, db: Database, clock: FakeClock,
        memory_upstream: InMemoryUpstream) -> None:
    shop.order()
    in_flight = claim(db, clock)
    shop.cancel()
    clock.advance(59)  # too little lease left to start the request
    assert worker.dispatch(in_flight) == "unsent"
    sync = row(db)
    assert sync.state == "skipped" and "status 'cancelled'" in sync.last_error
    worker.drain()
    assert memory_upstream.calls == 0


def test_an_unsent_row_deleted_after_an_unknown_outcome_stops_in_review(
        shop: Any, worker: Worker, db: Database, clock: FakeClock,
        memory_upstream: InMemoryUpstream) -> None:
    memory_upstream.repeated_order = "return_existing"
    shop.order()
    memory_upstream.fail_next(UpstreamTimeout("no answer in time", ambiguous=True),
                              after_create=True)
    worker.turn(dispatch_wait=True)
    clock.advance(3600)
    in_flight = claim(db, clock)
    shop.delete()
    clock.advance(59)
    assert worker.dispatch(in_flight) == "unsent"
    sync = row(db)
    assert sync.state == "review" and "an earlier attempt's outcome is unknown" in sync.last_error
    assert len(memory_upstream.invoices) == 1 and memory_upstream.calls == 1


def test_an_order_still_invoiced_is_retried_as_before(
        shop: Any, worker: Worker, db: Database, clock: FakeClock,
        memory_upstream: InMemoryUpstream) -> None:
    shop.order()
    in_flight = claim(db, clock)
    shop.order(minutes=5, status="completed")  # processing -> completed: still invoiced
    memory_upstream.fail_next(UpstreamUnavailable("HTTP 503: down", http_status=503))
    assert worker.dispatch(in_flight) == "retry"
    assert row(db).state == "retrying"
