"""An order withdrawn in the shop (deleted, or its status left ``invoice_statuses``) whose
row waits for a retry after an unknown outcome: its invoice may exist upstream, so the row is
never simply ``skipped``. An upstream that can look invoices up is asked -- only asked, never
sent a create -- and the row ends ``synced`` (then handled as any invoiced order that was
withdrawn: ``after_cancel``, ``on_change``) or ``skipped``; any other upstream stops it in
``review`` for a person. And an order whose status leaves while its invoice is being created
is treated, once the invoice exists, as an invoiced order that was cancelled.
On SQLite and PostgreSQL (tests/integration/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.dispatch.claims import claim_due
from bridge.dispatch.worker import Worker
from bridge.errors import UpstreamConnectionError, UpstreamTimeout
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import DispatchAttempt, OrderSync, OrderTask
from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.memory import InMemoryUpstream, LookupInMemoryUpstream
from sandbox.woocommerce.samples import build_order
from tests.conftest import SHOP

T0 = datetime(2026, 3, 14, 16, 42, 7, tzinfo=UTC)
ORDER = 1187
LOST_AFTER_CREATE = UpstreamConnectionError("connection lost", ambiguous=True)


class Shop:
    def __init__(self, make_settings: Any, db: Database, tmp_path: Path,
                 upstream: InMemoryUpstream, **shop_settings: Any) -> None:
        settings = make_settings({"shops": [shop_settings]} if shop_settings else None)
        self.db, self.upstream = db, upstream
        self.clock = FakeClock(datetime(2026, 3, 15, tzinfo=UTC))
        registry = UpstreamRegistry(settings, overrides={SHOP: upstream})
        self.store = DeliveryStore(db, Spool(tmp_path / "spool"))
        self.processor = DeliveryProcessor(db, settings, registry, self.clock)
        self.worker = Worker(settings, db, upstreams=registry, clock=self.clock,
                             worker_id="w1")
        self.minutes = 0

    def deliver(self, topic: str, payload: dict[str, Any]) -> None:
        self.store.store(IncomingDelivery(shop=SHOP, topic=topic, body=php_json_encode(payload)))
        self.processor.process_pending()

    def order(self, status: str = "processing") -> None:
        self.minutes += 1
        order = build_order(order_id=ORDER, status=status, date_created_gmt=T0,
                            date_modified_gmt=T0 + timedelta(minutes=self.minutes))
        order["date_paid_gmt"] = None  # unpaid: no payment task besides
        self.deliver("order.updated", order)

    def withdraw(self, how: str) -> None:
        if how == "deleted":
            self.deliver("order.deleted", {"id": ORDER})
        else:
            self.order(status="cancelled")

    def send_once(self) -> None:
        self.worker.turn(dispatch_wait=True)

    def row(self) -> OrderSync:
        with self.db.read() as session:
            return session.execute(select(OrderSync)).scalar_one()

    def outcomes(self) -> list[str]:
        with self.db.read() as session:
            return list(session.execute(select(DispatchAttempt.outcome)
                                        .order_by(DispatchAttempt.id)).scalars())

    def tasks(self) -> list[tuple[str, str]]:
        with self.db.read() as session:
            return [(t.kind, t.state) for t in session.execute(select(OrderTask)).scalars()]


@pytest.fixture
def make_shop(make_settings: Any, db: Database, tmp_path: Path) -> Any:
    def _make(upstream: InMemoryUpstream, **shop_settings: Any) -> Shop:
        return Shop(make_settings, db, tmp_path, upstream, **shop_settings)
    return _make


def lookup_upstream() -> LookupInMemoryUpstream:
    return LookupInMemoryUpstream(kind="econt", repeated_order="create_new",
                                  rules=EcontUpstream.rules)


HOW = [pytest.param("deleted", id="deleted"), pytest.param("cancelled", id="cancelled")]


@pytest.mark.parametrize("how", HOW)
def test_without_a_lookup_a_withdrawn_order_whose_invoice_may_exist_stops_in_review(
        make_shop: Any, how: str) -> None:
    # the upstream folds a repeat (a retry is safe), but cannot be asked what it holds
    shop = make_shop(InMemoryUpstream(kind="econt", repeated_order="return_existing",
                                      rules=EcontUpstream.rules))
    shop.order()
    shop.upstream.fail_next(LOST_AFTER_CREATE, after_create=True)
    shop.send_once()
    assert shop.row().state == "retrying" and len(shop.upstream.invoices) == 1
    shop.withdraw(how)
    sync = shop.row()
    assert sync.state == "review", sync.last_error  # was: skipped, the invoice forgotten
    assert "an earlier attempt's outcome is unknown" in sync.last_error
    assert "may exist" in sync.last_error
    shop.clock.advance(3600)
    shop.worker.drain()
    assert shop.upstream.calls == 1 and shop.outcomes() == ["retry_unknown"]


@pytest.mark.parametrize("how", HOW)
def test_a_withdrawn_order_whose_invoice_was_created_is_found_and_handled_as_invoiced(
        make_shop: Any, how: str) -> None:
    shop = make_shop(lookup_upstream())
    shop.order()
    shop.upstream.fail_next(LOST_AFTER_CREATE, after_create=True)
    shop.send_once()
    assert shop.row().state == "retrying"
    shop.withdraw(how)
    assert shop.row().state == "retrying"  # the dispatcher asks the upstream first
    shop.worker.drain()  # due at once: not at the retry's time
    sync = shop.row()
    assert sync.invoice_id == shop.upstream.invoices[0].invoice_id
    assert len(shop.upstream.invoices) == 1 and shop.upstream.calls == 1  # no create since
    assert shop.outcomes() == ["retry_unknown", "found"]
    # then as for any invoiced order withdrawn in the shop: the default policies stop it
    # for a person, who cancels the invoice upstream or acknowledges
    assert sync.state == "review", sync.last_error


def test_a_cancelled_order_found_invoiced_gets_its_cancellation_when_the_shop_wants_it(
        make_shop: Any) -> None:
    shop = make_shop(lookup_upstream(), after_cancel="cancel")
    shop.order()
    shop.upstream.fail_next(LOST_AFTER_CREATE, after_create=True)
    shop.send_once()
    shop.withdraw("cancelled")
    shop.worker.drain()
    assert shop.row().state == "synced" and shop.tasks() == [("cancel", "done")]
    assert list(shop.upstream.cancelled) == [f"{SHOP}:{ORDER}"]
    assert len(shop.upstream.invoices) == 1


@pytest.mark.parametrize("how", HOW)
def test_a_withdrawn_order_whose_invoice_was_never_created_is_skipped_after_a_lookup(
        make_shop: Any, how: str) -> None:
    shop = make_shop(lookup_upstream())
    shop.order()
    shop.upstream.fail_next(UpstreamTimeout("no answer in time", ambiguous=True))  # before
    shop.send_once()
    assert shop.row().state == "retrying" and shop.upstream.invoices == []
    shop.withdraw(how)
    shop.worker.drain()
    sync = shop.row()
    assert sync.state == "skipped", sync.last_error
    assert shop.upstream.invoices == [] and shop.upstream.lookups == 1
    assert shop.outcomes() == ["retry_unknown", "withdrawn"]


def test_a_failed_lookup_of_a_withdrawn_order_is_retried_never_a_create(
        make_shop: Any) -> None:
    shop = make_shop(lookup_upstream())
    shop.order()
    shop.upstream.fail_next(UpstreamTimeout("no answer in time", ambiguous=True))
    shop.send_once()
    shop.withdraw("cancelled")
    shop.upstream.fail_lookup_next(UpstreamTimeout("no answer in time", ambiguous=True))
    shop.send_once()
    assert shop.row().state == "retrying"
    shop.clock.advance(3600)
    shop.worker.drain()
    assert shop.row().state == "skipped" and shop.upstream.invoices == []
    assert shop.upstream.calls == 1 and shop.upstream.lookups == 2


def test_a_withdrawn_order_back_in_an_invoiced_status_before_the_lookup_is_invoiced(
        make_shop: Any) -> None:
    shop = make_shop(lookup_upstream())
    shop.order()
    shop.upstream.fail_next(UpstreamTimeout("no answer in time", ambiguous=True))
    shop.send_once()
    shop.withdraw("cancelled")
    [claim] = claim_due(shop.db, shops=[SHOP], worker_id="w1", limit=1, lease_seconds=60,
                        now=shop.clock.now())
    shop.order(status="processing")  # the shop changes its mind while the lookup runs
    assert shop.worker.dispatch(claim) == "retry"
    shop.worker.drain()
    assert shop.row().state == "synced" and len(shop.upstream.invoices) == 1


def test_a_status_that_leaves_while_the_invoice_is_created_is_handled_as_invoiced(
        make_shop: Any) -> None:
    shop = make_shop(lookup_upstream(), after_cancel="cancel")
    shop.order()
    [claim] = claim_due(shop.db, shops=[SHOP], worker_id="w1", limit=1, lease_seconds=60,
                        now=shop.clock.now())
    shop.withdraw("cancelled")  # arrives while the create is in flight
    assert shop.worker.dispatch(claim) == "created"
    shop.worker.drain()
    assert shop.row().state == "synced" and shop.tasks() == [("cancel", "done")]


def test_a_status_that_leaves_while_the_invoice_is_created_stops_in_review_by_default(
        make_shop: Any) -> None:
    shop = make_shop(lookup_upstream())
    shop.order()
    [claim] = claim_due(shop.db, shops=[SHOP], worker_id="w1", limit=1, lease_seconds=60,
                        now=shop.clock.now())
    shop.withdraw("cancelled")
    assert shop.worker.dispatch(claim) == "created"
    sync = shop.row()
    assert sync.state == "review" and "cancelled" in sync.last_error, sync.last_error


@pytest.mark.parametrize("got_through", [True, False], ids=["created", "never-arrived"])
def test_a_reaped_row_whose_order_was_cancelled_is_looked_up_not_sent_again(
        make_shop: Any, got_through: bool) -> None:
    shop = make_shop(lookup_upstream())
    shop.order()
    [claim] = claim_due(shop.db, shops=[SHOP], worker_id="dead", limit=1, lease_seconds=60,
                        now=shop.clock.now())
    if got_through:  # the dead worker's request reached the upstream
        shop.upstream.create_invoice(claim.payload)
    shop.withdraw("cancelled")
    shop.clock.advance(61)
    assert shop.worker.reap() == 1
    assert shop.row().state == "retrying"  # not review: the upstream can be asked
    shop.worker.drain()
    sync = shop.row()
    assert len(shop.upstream.invoices) == (1 if got_through else 0)
    assert shop.upstream.lookups == 1
    if got_through:
        assert shop.outcomes() == ["interrupted", "found"] and sync.state == "review"
        assert sync.invoice_id == shop.upstream.invoices[0].invoice_id
    else:
        assert shop.outcomes() == ["interrupted", "withdrawn"] and sync.state == "skipped"
