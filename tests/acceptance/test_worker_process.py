"""Real worker processes: SIGTERM lets in-flight work finish (or releases it), kill -9 loses
nothing and duplicates nothing once another worker reaps the lease."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import OrderSync
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.config import bridge_config, merge, write_config
from sandbox.econt import RunningSimulator, SimulatorState, econt_upstream, run_simulator
from sandbox.woocommerce.samples import build_order
from tests.conftest import CLIENT_ID, SHOP, TOKEN, WEBHOOK_SECRET

BIN = str(Path(sys.executable).parent / "invoice-bridge")


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=SimulatorState(accounts=[(CLIENT_ID, TOKEN)])) as running:
        yield running


def setup(tmp_path: Path, db_url: str, upstream: str, *, grace: str, lease: str = "30s",
          repeated_order: str = "unknown", orders: int = 3) -> tuple[Path, Database]:
    content = bridge_config(
        econt_upstream(upstream, client_id=CLIENT_ID, token=TOKEN,
                       repeated_order=repeated_order, rate_limit=0),
        webhook_secret=WEBHOOK_SECRET, shop_id=SHOP, db_url=db_url, log_format="json",
        log_level=None)
    config = write_config(tmp_path / "worker.toml", merge(content, {"dispatch": {
        "poll_interval": "100ms", "read_timeout": "8s", "connect_timeout": "1s",
        "lease": lease, "shutdown_grace": grace,
    }}))
    from bridge.config.load import load_settings

    settings = load_settings(config)
    db = Database.from_settings(settings.database)
    upgrade(db)
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    for order_id in range(1, orders + 1):
        store.store(IncomingDelivery(shop=SHOP, topic="order.created",
                                     body=php_json_encode(build_order(order_id=order_id))))
    DeliveryProcessor(db, settings, UpstreamRegistry(settings)).process_pending()
    return config, db


def start_worker(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([BIN, "--config", str(config), "worker"], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def rows(db: Database) -> list[OrderSync]:
    with db.read() as session:
        return list(session.execute(select(OrderSync).order_by(OrderSync.order_id)).scalars())


def wait_for(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_sigterm_lets_in_flight_dispatches_finish(tmp_path: Path, db_url: str,
                                                  simulator: RunningSimulator) -> None:
    config, db = setup(tmp_path, db_url, simulator.url, grace="20s")
    simulator.state.latency = 1.5
    worker = start_worker(config)
    # all three requests on the wire (claimed rows are "sending" before their thread starts)
    wait_for(lambda: simulator.state.stats()["put_requests"] == 3)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    final = rows(db)
    assert all(r.state == "synced" for r in final), [(r.order_id, r.state) for r in final]
    assert all(r.lease_owner is None for r in final)
    db.dispose()


def test_sigterm_past_the_grace_releases_instead_of_leaving_a_lease(
        tmp_path: Path, db_url: str, simulator: RunningSimulator) -> None:
    config, db = setup(tmp_path, db_url, simulator.url, grace="300ms")
    simulator.state.latency = 120  # waiting for the answers would outlast wait()'s timeout
    worker = start_worker(config)
    wait_for(lambda: simulator.state.stats()["put_requests"] >= 1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0  # did not wait for the slow upstream
    final = rows(db)
    assert all(r.lease_owner is None and r.state != "sending" for r in final)
    released = [r for r in final if r.state == "review"]
    assert released and all("shutdown grace over" in r.last_error for r in released)
    db.dispose()


@pytest.mark.parametrize(("mode", "settles_as"), [("reject", "synced"),
                                                  ("return_existing", "synced"),
                                                  ("unknown", "review")])
def test_kill_9_mid_dispatch_loses_and_duplicates_nothing(tmp_path: Path, db_url: str,
                                                          simulator: RunningSimulator,
                                                          mode: str, settles_as: str) -> None:
    simulator.state.repeated_order = "reject" if mode == "unknown" else mode
    config, db = setup(tmp_path, db_url, simulator.url, grace="20s", lease="12s",
                       repeated_order=mode, orders=3)
    simulator.state.latency = 1.0
    first = start_worker(config)
    wait_for(lambda: any(r.state == "sending" for r in rows(db)))
    first.kill()  # SIGKILL: no cleanup at all
    first.wait(timeout=10)
    in_flight = [r.order_id for r in rows(db) if r.state == "sending"]
    assert in_flight

    second = start_worker(config)  # picks up after the dead worker's lease expires
    try:
        wait_for(lambda: all(r.state in ("synced", "review") for r in rows(db)), timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    final = {r.order_id: r for r in rows(db)}
    for order_id, row in final.items():
        invoices = simulator.state.invoice_count(order_id, account=CLIENT_ID)
        assert invoices <= 1  # never a duplicate
        if order_id in in_flight:
            assert row.state == settles_as
        else:
            assert row.state == "synced" and invoices == 1
        if row.state == "synced":
            assert invoices == 1  # synced means the invoice exists: nothing lost
    db.dispose()
