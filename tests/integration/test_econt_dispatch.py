"""The worker against the e-Cont.md simulator over real HTTP on loopback: each fault the
simulator can inject ends in the state docs/guarantees.md promises, and never in a second
invoice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.config.model import Settings
from bridge.dispatch.worker import Worker
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import OrderSync, ShopState
from bridge.upstreams.econt.simulator import RunningSimulator, SimulatorState, run_simulator
from bridge.woocommerce.samples import sample_orders
from bridge.woocommerce.sender import php_json_encode
from tests.conftest import CLIENT_ID, SHOP, TOKEN


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    state = SimulatorState(accounts=[(CLIENT_ID, TOKEN)])
    with run_simulator(state=state) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def env(make_settings: Any, simulator: RunningSimulator, tmp_path: Path,
        clock: FakeClock) -> Iterator[Any]:
    """Settings, database and worker pointed at the simulator; ``configure`` to change."""
    class Env:
        def configure(self, repeated_order: str = "unknown", **dispatch: Any) -> None:
            changes = {"shops": [{"upstream": {"repeated_order": repeated_order}}],
                       "dispatch": {"read_timeout": "1s", "connect_timeout": "1s", "lease": "5s",
                                    **dispatch}}
            self.settings: Settings = make_settings(changes, upstream_url=simulator.url)
            self.db = Database.from_settings(self.settings.database)
            upgrade(self.db)
            self.worker = Worker(self.settings, self.db, clock=clock)
            self.store = DeliveryStore(self.db, Spool(tmp_path / "spool"))

        def send_orders(self, count: int = 1) -> list[int]:
            orders = sample_orders()[:count]
            for order in orders:
                self.store.store(IncomingDelivery(shop=SHOP, topic="order.created",
                                                  body=php_json_encode(order)))
            return [int(order["id"]) for order in orders]

        def row(self, order_id: int) -> OrderSync:
            with self.db.read() as session:
                return session.execute(select(OrderSync).where(OrderSync.order_id == order_id)
                                       ).scalar_one()

    environment = Env()
    yield environment
    if hasattr(environment, "db"):
        environment.db.dispose()


def invoices_for(simulator: RunningSimulator, order_id: int) -> int:
    return simulator.state.invoice_count(order_id, account=CLIENT_ID)


def test_orders_become_invoices_whose_items_add_up(env: Any,
                                                   simulator: RunningSimulator) -> None:
    env.configure()
    order_ids = env.send_orders(6)
    env.worker.drain()
    for order_id in order_ids:
        sync = env.row(order_id)
        [invoice] = simulator.state.invoices(order_id=order_id, account=CLIENT_ID)
        assert sync.state == "synced" and sync.invoice_id == invoice.hash
        assert sync.invoice_number == invoice.number and sync.last_http_status == 200
        body = invoice.body
        items = sum((Decimal(str(i["line_total"])) for i in body["items"].values()), Decimal(0))
        assert items == Decimal(str(body["order"]["amount"]))
        assert body["connect"]["language"] == "ro"
        assert "client" not in body["connect"] and "token" not in body["connect"]


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_server_errors_are_retried_then_succeed(env: Any, simulator: RunningSimulator,
                                                clock: FakeClock, status: str) -> None:
    env.configure()
    simulator.state.add_fault(status, times=2)
    [order_id] = env.send_orders()
    for _ in range(3):
        env.worker.turn(dispatch_wait=True)
        clock.advance(3600)
    sync = env.row(order_id)
    assert sync.state == "synced" and sync.attempts == 3
    assert invoices_for(simulator, order_id) == 1


def test_429_waits_for_retry_after(env: Any, simulator: RunningSimulator,
                                   clock: FakeClock) -> None:
    env.configure()
    simulator.state.add_fault("429", times=1, retry_after=90)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    sync = env.row(order_id)
    assert sync.state == "retrying" and sync.attempts == 0
    assert sync.next_attempt_at >= clock.now() + timedelta(seconds=90)


def test_401_pauses_the_shop(env: Any, simulator: RunningSimulator) -> None:
    env.configure()
    simulator.state.add_fault("401", times=1)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    with env.db.read() as session:
        paused = session.get(ShopState, SHOP)
    assert paused is not None and paused.paused
    assert "Incorrect or missing API key" in paused.paused_reason
    assert env.row(order_id).state == "retrying"


def test_422_is_a_permanent_rejection(env: Any, simulator: RunningSimulator) -> None:
    env.configure()
    simulator.state.add_fault("422", times=1)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    sync = env.row(order_id)
    assert sync.state == "failed" and sync.last_http_status == 422
    assert invoices_for(simulator, order_id) == 0


def test_wrong_base_url_pauses_instead_of_failing_every_order(make_settings: Any,
                                                              simulator: RunningSimulator,
                                                              tmp_path: Path) -> None:
    settings = make_settings(upstream_url=simulator.url + "/wrong/prefix")
    db = Database.from_settings(settings.database)
    upgrade(db)
    DeliveryStore(db, Spool(tmp_path / "s")).store(IncomingDelivery(
        shop=SHOP, topic="order.created", body=php_json_encode(sample_orders()[0])))
    Worker(settings, db).turn(dispatch_wait=True)
    with db.read() as session:
        assert "HTTP 404" in session.get(ShopState, SHOP).paused_reason
    db.dispose()


# Faults where the upstream may have created the invoice before the answer was lost.
AMBIGUOUS = [
    pytest.param("slow", {"delay": 2.0}, True, id="slow-after-create"),
    pytest.param("drop_after_create", {}, True, id="drop-after-create"),
    pytest.param("malformed", {}, True, id="malformed-200"),
    pytest.param("empty", {}, True, id="empty-200"),
    pytest.param("reset", {}, False, id="reset-before-processing"),
]


@pytest.mark.parametrize(("fault", "options", "created"), AMBIGUOUS)
def test_unknown_repeat_behaviour_stops_for_review(env: Any, simulator: RunningSimulator,
                                                   clock: FakeClock, fault: str,
                                                   options: dict[str, Any],
                                                   created: bool) -> None:
    env.configure(repeated_order="unknown")
    simulator.state.repeated_order = "create_new"  # the dangerous upstream
    simulator.state.add_fault(fault, times=1, **options)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    sync = env.row(order_id)
    assert sync.state == "review" and "outcome unknown" in sync.last_error
    clock.advance(86400)
    env.worker.drain()
    assert invoices_for(simulator, order_id) == (1 if created else 0)  # never a second one


@pytest.mark.parametrize("mode", ["reject", "return_existing"])
@pytest.mark.parametrize(("fault", "options", "created"), AMBIGUOUS)
def test_deduping_upstream_is_retried_to_exactly_one_invoice(env: Any,
                                                             simulator: RunningSimulator,
                                                             clock: FakeClock, mode: str,
                                                             fault: str, options: dict[str, Any],
                                                             created: bool) -> None:
    env.configure(repeated_order=mode)
    simulator.state.repeated_order = mode
    simulator.state.add_fault(fault, times=1, **options)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    assert env.row(order_id).state == "retrying"
    clock.advance(3600)
    env.worker.drain()
    sync = env.row(order_id)
    assert sync.state == "synced"
    assert invoices_for(simulator, order_id) == 1
    if mode == "return_existing" or not created:
        [invoice] = simulator.state.invoices(order_id=order_id, account=CLIENT_ID)
        assert sync.invoice_id == invoice.hash
    else:  # reject: the upstream confirms the invoice exists but does not say which
        assert sync.invoice_id is None and "did not return its id" in sync.last_error
