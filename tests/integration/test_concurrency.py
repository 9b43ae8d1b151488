"""Several workers on one database: disjoint claims, one invoice per order, and the
upstream account's rate limit respected."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.dispatch.worker import Worker
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import DispatchAttempt, OrderSync
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.econt import RunningSimulator, SimulatorState, run_simulator
from sandbox.woocommerce.samples import build_order
from tests.conftest import CLIENT_ID, SHOP, TOKEN


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    # create_new: if two workers ever sent the same order, it would show as a second invoice
    state = SimulatorState(accounts=[(CLIENT_ID, TOKEN)], repeated_order="create_new")
    with run_simulator(state=state) as running:
        yield running


def load_orders(settings: Any, db: Database, tmp_path: Path, count: int) -> None:
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    for order_id in range(1, count + 1):
        store.store(IncomingDelivery(shop=SHOP, topic="order.created",
                                     body=php_json_encode(build_order(order_id=order_id))))
    DeliveryProcessor(db, settings, UpstreamRegistry(settings)).process_pending(limit=count)


def run_workers(settings: Any, db: Database, workers: int, until: Any,
                timeout: float = 60) -> list[Worker]:
    pool = [Worker(settings, db, worker_id=f"w{i}") for i in range(workers)]
    threads = [threading.Thread(target=w.run) for w in pool]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until():
        time.sleep(0.05)
    for worker in pool:
        worker.stop()
    for thread in threads:
        thread.join(30)
    return pool


def test_four_workers_never_send_an_order_twice(make_settings: Any, db_url: str,
                                                simulator: RunningSimulator,
                                                tmp_path: Path) -> None:
    settings = make_settings({"dispatch": {"concurrency": 4}}, upstream_url=simulator.url)
    db = Database.from_settings(settings.database)
    upgrade(db)
    simulator.state.latency = 0.02
    load_orders(settings, db, tmp_path, 120)

    def all_synced() -> bool:
        with db.read() as session:
            return session.execute(select(func.count()).select_from(OrderSync).where(
                OrderSync.state == "synced")).scalar_one() == 120

    run_workers(settings, db, 4, all_synced)
    assert all_synced()
    assert all(simulator.state.invoice_count(o, account=CLIENT_ID) == 1 for o in range(1, 121))
    with db.read() as session:
        attempts = session.execute(select(DispatchAttempt.sync_id, DispatchAttempt.worker)
                                   ).all()
        leases = session.execute(select(func.count()).select_from(OrderSync).where(
            OrderSync.lease_owner.is_not(None))).scalar_one()
    assert len(attempts) == 120 and len({a.sync_id for a in attempts}) == 120
    assert len({a.worker for a in attempts}) >= 2  # the work really was shared
    assert leases == 0
    db.dispose()


def test_rate_limit_keeps_requests_under_the_quota(make_settings: Any, db_url: str,
                                                   simulator: RunningSimulator,
                                                   tmp_path: Path) -> None:
    settings = make_settings({"dispatch": {"concurrency": 8},
                              "shops": [{"upstream": {"rate_limit": 5, "rate_burst": 2}}]},
                             upstream_url=simulator.url)
    db = Database.from_settings(settings.database)
    upgrade(db)
    load_orders(settings, db, tmp_path, 16)
    run_workers(settings, db, 1, lambda: len(simulator.state.invoices()) == 16)
    times = sorted(datetime.fromisoformat(entry["at"]).timestamp()
                   for entry in simulator.state.request_log())
    assert len(times) == 16
    # In any one-second window: at most rate + burst requests.
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 5 + 2, busiest
    db.dispose()
