"""Backfill and reconciliation: missed orders come back from the shop's REST API, through
the same pipeline and dedupe as webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.backfill import backfill
from bridge.clock import FakeClock
from bridge.config.model import Settings
from bridge.dispatch.reconcile import Reconciler
from bridge.dispatch.worker import Worker
from bridge.errors import RefusalKind, Refused
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import Delivery, OrderSync, ShopState
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.rest_simulator import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    RestSimulatorState,
    RunningRestSimulator,
    run_rest_simulator,
)
from sandbox.woocommerce.samples import build_order
from tests.conftest import SHOP

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def shop_api() -> Iterator[RunningRestSimulator]:
    # Plain HTTP on loopback: the client signs with OAuth 1.0a, as a real plain-HTTP shop needs.
    with run_rest_simulator(state=RestSimulatorState(ssl=False)) as running:
        running.state.seed_orders(30, first_id=1001, start=START)
        yield running


@pytest.fixture
def env(make_settings: Any, shop_api: RunningRestSimulator, tmp_path: Path,
        memory_upstream: InMemoryUpstream) -> Iterator[Any]:
    class Env:
        def __init__(self, **woocommerce: Any) -> None:
            woo = {"url": shop_api.url, "consumer_key": DEMO_CONSUMER_KEY,
                   "consumer_secret": DEMO_CONSUMER_SECRET, **woocommerce}
            self.settings: Settings = make_settings({"shops": [{"woocommerce": woo}]})
            self.db = Database.from_settings(self.settings.database)
            upgrade(self.db)
            self.registry = UpstreamRegistry(self.settings, overrides={SHOP: memory_upstream})

        def process(self) -> None:
            DeliveryProcessor(self.db, self.settings, self.registry).process_pending(limit=1000)

        def drain(self) -> None:
            Worker(self.settings, self.db, upstreams=self.registry).drain()

        def count(self, model: Any, *where: Any) -> int:
            with self.db.read() as session:
                return session.execute(select(func.count()).select_from(model).where(*where)
                                       ).scalar_one()

    made: list[Env] = []

    def _make(**woocommerce: Any) -> Env:
        made.append(Env(**woocommerce))
        return made[-1]

    yield _make
    for environment in made:
        environment.db.dispose()


def test_backfill_recovers_missed_orders_exactly_once(env: Any, shop_api: RunningRestSimulator,
                                                      memory_upstream: InMemoryUpstream,
                                                      tmp_path: Path) -> None:
    e = env()
    # Ten orders arrived by webhook before the webhook was disabled; twenty never did.
    store = DeliveryStore(e.db, Spool(tmp_path / "spool"))
    for order in shop_api.state.orders()[:10]:
        store.store(IncomingDelivery(shop=SHOP, topic="order.created", body=php_json_encode(order)))
    e.process()
    e.drain()
    assert len(memory_upstream.invoices) == 10

    pages = []
    report = backfill(e.db, e.settings, SHOP, START - timedelta(days=1),
                      on_page=lambda page: pages.append(page.page))
    assert (report.fetched, report.stored, report.up_to_date) == (30, 20, 10)
    assert e.count(Delivery, Delivery.source == "backfill") == 20
    e.process()
    e.drain()
    assert sorted(i.order_id for i in memory_upstream.invoices) == list(range(1001, 1031))

    again = backfill(e.db, e.settings, SHOP, START - timedelta(days=1))
    assert (again.stored, again.up_to_date) == (0, 30)  # nothing new stored, no growth


def test_backfill_takes_newer_snapshots_and_skips_drafts(env: Any,
                                                         shop_api: RunningRestSimulator) -> None:
    e = env()
    backfill(e.db, e.settings, SHOP, START - timedelta(days=1))
    e.process()
    shop_api.state.touch_order(1005, START + timedelta(days=5))
    shop_api.state.put_order(build_order(order_id=2000, status="checkout-draft",
                                         date_modified_gmt=START + timedelta(days=5)))
    report = backfill(e.db, e.settings, SHOP, START + timedelta(days=4))
    assert (report.fetched, report.stored, report.drafts) == (2, 1, 1)
    e.process()
    with e.db.read() as session:
        row = session.execute(select(OrderSync).where(OrderSync.order_id == 1005)).scalar_one()
    assert row.snapshot_modified_at == START + timedelta(days=5)


def test_backfill_needs_a_rest_api(make_settings: Any, db: Database) -> None:
    with pytest.raises(Refused, match=r"\[shops.woocommerce\]") as refused:
        backfill(db, make_settings(), SHOP, START)
    assert refused.value.kind == RefusalKind.INVALID


def test_one_reconciliation_per_interval_across_workers(env: Any,
                                                        shop_api: RunningRestSimulator) -> None:
    e = env(reconcile_interval="15m", reconcile_window="1000d")
    clock = FakeClock(datetime.now(UTC))
    first, second = Reconciler(e.settings, e.db, clock), Reconciler(e.settings, e.db, clock)
    results = first.run_once()
    assert results[SHOP].startswith("ok: 30 orders")
    assert second.run_once() == {}  # the other worker does not repeat it
    with e.db.read() as session:
        state = session.get(ShopState, SHOP)
        assert state.reconciled_at == clock.now() and state.reconcile_result == results[SHOP]
    e.process()  # what the worker does with them long before the next round
    clock.advance(16 * 60)
    later = second.run_once()[SHOP]  # an interval later, either worker may take it
    assert later.startswith("ok: 30 orders since") and later.endswith("0 new or changed")
    assert e.count(Delivery, Delivery.source == "backfill") == 30  # nothing doubled


def test_reconciliation_failure_is_recorded(env: Any, shop_api: RunningRestSimulator) -> None:
    e = env(reconcile_interval="15m", consumer_secret="cs_wrong")
    result = Reconciler(e.settings, e.db).run_once()[SHOP]
    assert result.startswith("failed:") and "cs_wrong" not in result
    with e.db.read() as session:
        assert session.get(ShopState, SHOP).reconcile_result == result
