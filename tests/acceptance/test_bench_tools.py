"""The benchmark scripts' moving parts, run tiny: they must keep working, not be fast here.

No timing is asserted (docs/benchmarks.md holds the figures, measured by ``bench/``)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from bench.backlog import seed_history, seed_sync_rows
from bench.common import free_port, running, wait_http, write_config
from bench.dispatch import Simulator, worker_run
from bench.latency import Arrivals, measure
from bridge.config.load import load_settings
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import Delivery, OrderSync
from sandbox.econt.server import run_simulator


def test_seeding_writes_the_rows_it_says(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, db_url=f"sqlite:///{tmp_path / 'b.db'}"))
    db = Database.from_settings(settings.database)
    upgrade(db)
    seed_history(db, settings, count=300)
    seed_sync_rows(db, settings, count=20, first=1001)
    with db.read() as session:
        by_state = dict(session.execute(select(OrderSync.state, func.count())
                                        .group_by(OrderSync.state)).all())
        due = session.scalars(select(OrderSync).where(OrderSync.state == "pending")
                              .order_by(OrderSync.order_id)).all()
        deliveries = session.scalar(select(func.count()).select_from(Delivery))
    db.dispose()
    assert by_state == {"synced": 300, "pending": 20} and deliveries == 300
    assert [row.payload["order"]["id"] for row in due] == list(range(1001, 1021))
    assert json.dumps(due[0].payload).count('"items"') == 1


def test_worker_run_drains_a_backlog_through_the_simulator() -> None:
    simulator = Simulator(free_port(), 0.0)
    with running(simulator.process()):
        wait_http(simulator.url + "/_sandbox/stats")
        result = worker_run(simulator, "sqlite", first=1, count=60, concurrency=2)
    assert result["orders"] == 60 and result["measured_orders"] == 54
    assert result["orders_per_second"] > 0 and result["seconds"] > 0


def test_latency_times_every_order_from_its_2xx_to_its_invoice_request() -> None:
    with run_simulator() as simulator:
        arrivals = Arrivals(simulator)
        result = measure("embedded", simulator, arrivals, first=500, orders=8, rate=20)
    # the warm-up orders (500..509) and the measured ones (510..517) all arrived
    assert sorted(arrivals.at) == list(range(500, 518))
    assert result["acknowledged"] == result["arrived"] == 8
    assert result["p50_ms"] <= result["p90_ms"] <= result["p99_ms"] <= result["max_ms"]
