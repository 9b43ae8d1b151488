"""The worker against the FACTURAgem simulator over real HTTP, on SQLite and PostgreSQL:
orders become one invoice each whose total is the order's; every answer that never came (or
came from something else) is settled by looking the invoice up -- never a second invoice,
never a row in review; FACTURAgem's own refusals end as readable reasons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.config.load import parse_settings
from bridge.dispatch.worker import Worker
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import DispatchAttempt, OrderSync, ShopState
from bridge.upstreams.facturagem.auth import forget_sessions
from bridge.woocommerce.php_json import php_json_encode
from sandbox.config import bridge_config, merge
from sandbox.facturagem.config import facturagem_upstream
from sandbox.facturagem.server import RunningSimulator, run_simulator
from sandbox.facturagem.state import DEMO_PASSWORD, FacturagemState
from sandbox.woocommerce.samples import sample_orders

SHOP = "tienda"


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    forget_sessions()
    with run_simulator(state=FacturagemState(page_size=4)) as running:
        yield running
    forget_sessions()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


class Env:
    def __init__(self, db_url: str, simulator: RunningSimulator, tmp_path: Path,
                 clock: FakeClock) -> None:
        config = merge(bridge_config(
            facturagem_upstream(simulator.url, password=None, password_env="FG_PASSWORD",
                                rate_limit=0),
            webhook_secret="secret_value_0123", shop_id=SHOP, db_url=db_url,
            spool_dir=str(tmp_path / "spool")),
            {"dispatch": {"read_timeout": "1s", "connect_timeout": "1s", "lease": "5s"}})
        self.settings = parse_settings(config, env={"FG_PASSWORD": DEMO_PASSWORD},
                                       base_dir=tmp_path)
        self.db = Database.from_settings(self.settings.database)
        upgrade(self.db)
        self.worker = Worker(self.settings, self.db, clock=clock)
        self.store = DeliveryStore(self.db, Spool(tmp_path / "spool"))
        self.simulator = simulator
        # logged in already, so a fault queued for "the next request" reaches the invoice
        # (a worker's first request is the login, which faults reach too)
        self.worker.upstreams.for_shop(SHOP).check_credentials()

    def send_orders(self, count: int = 1) -> list[dict[str, Any]]:
        orders = sample_orders()[:count]
        for order in orders:
            self.store.store(IncomingDelivery(shop=SHOP, topic="order.created",
                                              body=php_json_encode(order)))
        return orders

    def row(self, order_id: int) -> OrderSync:
        with self.db.read() as session:
            return session.execute(select(OrderSync).where(OrderSync.order_id == order_id)
                                   ).scalar_one()

    def outcomes(self) -> list[str]:
        with self.db.read() as session:
            return list(session.execute(select(DispatchAttempt.outcome).order_by(
                DispatchAttempt.id)).scalars())

    def invoices(self, order_id: int) -> list[Any]:
        return [i for i in self.simulator.state.invoices() if i.order_id == order_id]


@pytest.fixture
def env(db_url: str, simulator: RunningSimulator, tmp_path: Path,
        clock: FakeClock) -> Iterator[Env]:
    environment = Env(db_url, simulator, tmp_path, clock)
    yield environment
    environment.worker.upstreams.close()  # its HTTP connections
    environment.db.dispose()


def test_orders_become_one_invoice_each_for_what_the_buyer_paid(env: Env) -> None:
    orders = env.send_orders(6)
    env.worker.drain()
    for order in orders:
        row = env.row(order["id"])
        [invoice] = env.invoices(order["id"])
        assert row.state == "synced" and row.invoice_id == str(invoice.id)
        assert row.invoice_number == invoice.number
        assert invoice.total == Decimal(order["total"])
        assert invoice.fields["prices_include_tax"] is True
        stored = json.dumps(row.payload)
        assert DEMO_PASSWORD not in stored and "api_key" not in stored
    counts = env.simulator.state.stats()
    assert counts["logins"] == 1 and counts["sessions_destroyed"] == 0  # check_credentials
    assert counts["clients"] == 4  # the sample orders have four buyers


AFTER_CREATE = [
    pytest.param("slow", {"delay": 2.0}, id="slow"),
    pytest.param("drop_after_create", {}, id="drop-after-create"),
    pytest.param("malformed", {}, id="malformed-200"),
    pytest.param("empty", {}, id="empty-200"),
    pytest.param("gateway_after_create", {"status": 504}, id="gateway-504-after-create"),
]
BEFORE_CREATE = [
    pytest.param("reset", {}, id="reset"),
    pytest.param("gateway", {}, id="gateway-502"),
    pytest.param("500", {}, id="own-500"),
    pytest.param("503", {}, id="own-503"),
]


@pytest.mark.parametrize(("fault", "options"), AFTER_CREATE)
def test_a_lost_answer_is_settled_by_finding_the_invoice(env: Env, clock: FakeClock,
                                                         fault: str,
                                                         options: dict[str, Any]) -> None:
    env.simulator.state.add_fault(fault, times=1, **options)
    [order] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    assert env.row(order["id"]).state == "retrying"  # not review: it can be looked up
    clock.advance(3600)
    env.worker.drain()
    row = env.row(order["id"])
    [invoice] = env.invoices(order["id"])
    assert row.state == "synced" and row.invoice_id == str(invoice.id)
    assert env.outcomes() == ["retry_unknown", "found"]
    assert env.simulator.state.stats()["invoices_created"] == 1


@pytest.mark.parametrize(("fault", "options"), BEFORE_CREATE)
def test_a_failure_before_the_invoice_existed_is_looked_up_then_sent(
        env: Env, clock: FakeClock, fault: str, options: dict[str, Any]) -> None:
    env.simulator.state.add_fault(fault, times=1, **options)
    [order] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    clock.advance(3600)
    env.worker.drain()
    assert env.row(order["id"]).state == "synced" and len(env.invoices(order["id"])) == 1
    assert env.outcomes()[-1] == "created"


def test_a_validation_failure_is_a_readable_permanent_rejection(env: Env) -> None:
    env.simulator.state.add_fault("422", times=1)
    [order] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    row = env.row(order["id"])
    assert row.state == "failed" and row.last_http_status == 422
    assert "Unprocessable Entity" in row.last_error and env.invoices(order["id"]) == []


def test_an_expired_session_is_renewed_without_the_operator(env: Env) -> None:
    env.send_orders(1)
    env.worker.drain()
    env.simulator.state.revoke_keys()
    [_, order] = env.send_orders(2)
    env.worker.drain()
    assert env.row(order["id"]).state == "synced"
    assert env.simulator.state.stats()["logins"] == 2
    with env.db.read() as session:
        shop = session.get(ShopState, SHOP)
    assert shop is None or not shop.paused


def test_refused_credentials_pause_the_shop(env: Env) -> None:
    env.simulator.state.add_fault("401", times=2)  # the request, then the new login
    [order] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    with env.db.read() as session:
        shop = session.get(ShopState, SHOP)
    assert shop is not None and shop.paused and "login refused" in shop.paused_reason
    assert env.row(order["id"]).state == "retrying" and env.invoices(order["id"]) == []


@pytest.mark.parametrize("first", ["reset", "gateway", "drop_after_create"])
def test_a_refusal_after_a_lookup_found_nothing_is_a_failure_not_a_review(
        env: Env, clock: FakeClock, first: str) -> None:
    """An earlier attempt's outcome was unknown, but this attempt began by looking the invoice
    up: what the lookup found settles it. Found nothing, then refused for good: no invoice
    exists, so the row is ``failed`` -- not ``review`` for a person to check what the
    lookup already checked. (Found something: ``synced``.)"""
    env.simulator.state.add_fault(first, times=1)
    env.simulator.state.add_fault("422", times=1)
    [order] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    clock.advance(3600)
    env.worker.drain()
    row = env.row(order["id"])
    created = first == "drop_after_create"
    assert len(env.invoices(order["id"])) == (1 if created else 0)
    assert env.outcomes() == ["retry_unknown", "found" if created else "rejected"]
    assert row.state == ("synced" if created else "failed")
