"""The optional ``find_invoice`` capability: an upstream that can be asked whether it holds
an order's invoice lets the dispatcher settle every unknown outcome by itself -- it looks the
invoice up before it sends again -- instead of stopping the row in ``review``. Driven against
the in-memory upstream that creates a new invoice on every repeat (the dangerous kind)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.config.model import Settings
from bridge.dispatch.claims import claim_due
from bridge.dispatch.worker import Worker
from bridge.errors import UpstreamConnectionError, UpstreamTimeout, UpstreamUnavailable
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import DispatchAttempt, OrderSync
from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.memory import LookupInMemoryUpstream
from sandbox.woocommerce.samples import build_order
from tests.conftest import SHOP

T0 = datetime(2026, 3, 14, 16, 42, 7, tzinfo=UTC)


@pytest.fixture
def upstream() -> LookupInMemoryUpstream:
    return LookupInMemoryUpstream(kind="econt", repeated_order="create_new",
                                  rules=EcontUpstream.rules)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 15, tzinfo=UTC))


@pytest.fixture
def worker(settings: Settings, db: Database, upstream: LookupInMemoryUpstream,
           clock: FakeClock, tmp_path: Path) -> Worker:
    registry = UpstreamRegistry(settings, overrides={SHOP: upstream})
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    store.store(IncomingDelivery(shop=SHOP, topic="order.created", body=php_json_encode(
        build_order(order_id=1187, date_created_gmt=T0, date_modified_gmt=T0))))
    DeliveryProcessor(db, settings, registry, clock).process_pending()
    return Worker(settings, db, upstreams=registry, clock=clock, worker_id="w1")


def row(db: Database) -> OrderSync:
    with db.read() as session:
        return session.execute(select(OrderSync)).scalar_one()


def outcomes(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.execute(select(DispatchAttempt.outcome)
                                    .order_by(DispatchAttempt.id)).scalars())


@pytest.mark.parametrize("lost", [
    UpstreamTimeout("no answer in time", ambiguous=True),
    UpstreamConnectionError("connection lost", ambiguous=True),
    UpstreamUnavailable("HTTP 502, not the upstream's own error answer", ambiguous=True),
])
def test_an_answer_lost_after_create_is_found_not_sent_again(
        worker: Worker, db: Database, upstream: LookupInMemoryUpstream, clock: FakeClock,
        lost: Exception) -> None:
    upstream.fail_next(lost, after_create=True)  # type: ignore[arg-type]
    worker.turn(dispatch_wait=True)
    assert row(db).state == "retrying"  # not review: the next attempt can ask first
    assert upstream.lookups == 0  # the first send does not look anything up
    clock.advance(3600)
    worker.turn(dispatch_wait=True)
    sync = row(db)
    assert sync.state == "synced" and sync.invoice_id == upstream.invoices[0].invoice_id
    assert len(upstream.invoices) == 1 and upstream.lookups == 1
    assert outcomes(db) == ["retry_unknown", "found"]


def test_an_answer_lost_before_create_is_looked_up_then_created_once(
        worker: Worker, db: Database, upstream: LookupInMemoryUpstream,
        clock: FakeClock) -> None:
    upstream.fail_next(UpstreamTimeout("no answer in time", ambiguous=True))
    worker.turn(dispatch_wait=True)
    clock.advance(3600)
    worker.turn(dispatch_wait=True)
    assert row(db).state == "synced" and len(upstream.invoices) == 1
    assert upstream.lookups == 1 and outcomes(db) == ["retry_unknown", "created"]


def test_a_killed_worker_is_settled_by_a_lookup(worker: Worker, db: Database,
                                                 upstream: LookupInMemoryUpstream,
                                                 clock: FakeClock) -> None:
    [claim] = claim_due(db, shops=[SHOP], worker_id="dead", limit=1, lease_seconds=30,
                        now=clock.now())
    upstream.create_invoice(claim.payload)  # the dead worker's request got through
    clock.advance(31)
    worker.drain()
    assert row(db).state == "synced" and len(upstream.invoices) == 1
    assert outcomes(db) == ["interrupted", "found"]


def test_a_failed_lookup_is_an_ordinary_retry_never_an_unknown_outcome(
        worker: Worker, db: Database, upstream: LookupInMemoryUpstream,
        clock: FakeClock) -> None:
    upstream.fail_next(UpstreamConnectionError("connection lost", ambiguous=True),
                       after_create=True)
    worker.turn(dispatch_wait=True)
    upstream.fail_lookup_next(UpstreamTimeout("no answer in time", ambiguous=True))
    clock.advance(3600)
    worker.turn(dispatch_wait=True)
    assert row(db).state == "retrying"
    clock.advance(timedelta(days=1).total_seconds())
    worker.turn(dispatch_wait=True)
    assert row(db).state == "synced" and len(upstream.invoices) == 1
    assert outcomes(db) == ["retry_unknown", "retry", "found"]


def test_without_the_capability_the_same_loss_stops_for_review(
        settings: Settings, db: Database, tmp_path: Path, clock: FakeClock) -> None:
    """The control: the same upstream without find_invoice cannot settle it."""
    from sandbox.memory import InMemoryUpstream

    plain = InMemoryUpstream(kind="econt", repeated_order="create_new",
                             rules=EcontUpstream.rules)
    registry = UpstreamRegistry(settings, overrides={SHOP: plain})
    DeliveryStore(db, Spool(tmp_path / "spool")).store(IncomingDelivery(
        shop=SHOP, topic="order.created", body=php_json_encode(build_order(order_id=1))))
    DeliveryProcessor(db, settings, registry, clock).process_pending()
    plain.fail_next(UpstreamTimeout("no answer in time", ambiguous=True), after_create=True)
    Worker(settings, db, upstreams=registry, clock=clock).turn(dispatch_wait=True)
    assert row(db).state == "review"
