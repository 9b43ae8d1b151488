"""The worker against the facturare.md simulator over real HTTP on loopback, on SQLite and
PostgreSQL: orders become invoices that total what the buyer pays, repeat buyers keep one
customer, and every answer that was lost is settled by a lookup -- one invoice, no review."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.config.load import parse_settings
from bridge.config.model import Settings
from bridge.dispatch.worker import Worker
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import DispatchAttempt, OrderSync, ShopState
from bridge.storage.repository import set_shop_paused
from bridge.woocommerce.php_json import php_json_encode
from sandbox.config import merge
from sandbox.facturare import FacturareState, RunningSimulator, run_simulator
from sandbox.facturare.config import facturare_upstream
from sandbox.facturare.harness import invoices_of_order
from sandbox.woocommerce.samples import Item, build_order, sample_orders
from tests.conftest import SHOP, base_config

KEY = "shop-test-key-0123456789"


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=FacturareState(api_keys=[KEY])) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


class Env:
    def __init__(self, db_url: str, simulator: RunningSimulator, tmp_path: Path,
                 clock: FakeClock, base_url: str | None = None) -> None:
        config = base_config(tmp_path, db_url=db_url)
        config["shops"][0]["upstream"] = facturare_upstream(base_url or simulator.url,
                                                            api_key=KEY, rate_limit=0)
        config = merge(config, {"dispatch": {"read_timeout": "1s", "connect_timeout": "1s",
                                             "lease": "5s"}})
        self.settings: Settings = parse_settings(config, env={}, base_dir=tmp_path)
        self.db = Database.from_settings(self.settings.database)
        upgrade(self.db)
        self.worker = Worker(self.settings, self.db, clock=clock)
        self.store = DeliveryStore(self.db, Spool(tmp_path / "spool"))
        self.simulator = simulator

    def send(self, *orders: dict[str, Any]) -> list[int]:
        for order in orders:
            self.store.store(IncomingDelivery(shop=SHOP, topic="order.created",
                                              body=php_json_encode(order)))
        return [int(order["id"]) for order in orders]

    def row(self, order_id: int) -> OrderSync:
        with self.db.read() as session:
            return session.execute(select(OrderSync).where(OrderSync.order_id == order_id)
                                   ).scalar_one()

    def outcomes(self, order_id: int) -> list[str]:
        with self.db.read() as session:
            sync_id = self.row(order_id).id
            return list(session.execute(select(DispatchAttempt.outcome).where(
                DispatchAttempt.sync_id == sync_id).order_by(DispatchAttempt.id)).scalars())

    def invoices(self, order_id: int) -> list[dict[str, Any]]:
        return invoices_of_order(self.simulator.state, order_id, account=KEY)


@pytest.fixture
def env(db_url: str, simulator: RunningSimulator, tmp_path: Path,
        clock: FakeClock) -> Iterator[Env]:
    environment = Env(db_url, simulator, tmp_path, clock)
    yield environment
    environment.db.dispose()


def test_orders_become_invoices_that_total_what_the_buyer_pays(env: Env) -> None:
    orders = sample_orders()
    env.send(*orders)
    env.worker.drain()
    for order in orders:
        row = env.row(order["id"])
        [invoice] = env.invoices(order["id"])
        assert row.state == "synced" and row.invoice_id == str(invoice["id"])
        assert row.invoice_number == invoice["number"] and row.last_http_status == 201
        assert invoice["total"] == Decimal(order["total"])
        assert invoice["currency"] == order["currency"].lower()
        assert invoice["purchase_order"] == order["number"]
    # 2001, 2004 and 2006 are the same buyer with the same details: one customer
    customers = env.simulator.state.listing(KEY, "customers")
    assert len(customers) == 4
    # a first send is not looked up (nothing can exist yet): no GET /invoices?metadata[...]
    reads = [entry["path"] for entry in env.simulator.state.request_log()
             if entry["method"] == "GET"]
    assert reads.count("/customers") == len(orders) and "/invoices" not in reads
    same = {invoice["customer"] for order_id in (2001, 2004, 2006)
            for invoice in env.invoices(order_id)}
    assert len(same) == 1


def test_vat_per_line_reaches_the_invoice(env: Env) -> None:
    [order_id] = env.send(sample_orders()[1])  # B2B, 20 % VAT on every line
    env.worker.drain()
    [invoice] = env.invoices(order_id)
    assert all(item["taxes"][0]["rate"] == 20 for item in invoice["items"])
    assert invoice["subtotal"] + invoice["tax"] == invoice["total"] == Decimal("8377.20")
    assert invoice["tax"] == Decimal("1396.20")


# Faults on POST /invoices where the answer is lost -- the invoice may or may not exist.
LOST = [
    pytest.param("slow", {"delay": 2.0}, 1, id="timeout-after-create"),
    pytest.param("drop_after_create", {}, 1, id="drop-after-create"),
    pytest.param("malformed", {}, 1, id="html-201"),
    pytest.param("empty", {}, 1, id="empty-201"),
    pytest.param("gateway_after_create", {"status": 504}, 1, id="gateway-504-after-create"),
    # a gateway's 429 or 401 page proves nothing either: the invoice may exist
    pytest.param("gateway_after_create", {"status": 429}, 1, id="gateway-429-after-create"),
    pytest.param("gateway_after_create", {"status": 401}, 1, id="gateway-401-after-create"),
    pytest.param("reset", {}, 0, id="reset-before-processing"),
    pytest.param("gateway", {}, 0, id="gateway-502-before-processing"),
]


@pytest.mark.parametrize(("fault", "options", "created"), LOST)
def test_a_lost_answer_is_looked_up_never_sent_blindly(env: Env, clock: FakeClock, fault: str,
                                                       options: dict[str, Any],
                                                       created: int) -> None:
    env.simulator.state.configure(customer_faults=False)  # aim the fault at the invoice
    env.simulator.state.add_fault(fault, times=1, **options)
    [order_id] = env.send(build_order(order_id=3001))
    env.worker.turn(dispatch_wait=True)
    row = env.row(order_id)
    assert row.state == "retrying" and len(env.invoices(order_id)) == created
    clock.advance(3600)
    with env.db.transaction() as session:  # an operator resumes a shop the 401 page paused
        set_shop_paused(session, SHOP, False, None)
    env.worker.drain()
    row = env.row(order_id)
    [invoice] = env.invoices(order_id)  # exactly one, whatever happened
    assert row.state == "synced" and row.invoice_id == str(invoice["id"])
    # found by the lookup when the lost request had created it, else created now
    assert env.outcomes(order_id)[-1] == ("found" if created else "created")


def test_a_failed_customer_step_is_certain_and_the_customer_is_found_next_time(
        env: Env, clock: FakeClock) -> None:
    env.simulator.state.add_fault("slow", times=1, delay=2.0)  # the customer is created
    [order_id] = env.send(build_order(order_id=3002))
    env.worker.turn(dispatch_wait=True)
    row = env.row(order_id)
    assert row.state == "retrying" and row.last_error.startswith("customer: ")
    assert env.outcomes(order_id) == ["retry"]  # no invoice was sent: not an unknown outcome
    clock.advance(3600)
    env.worker.drain()
    assert env.row(order_id).state == "synced" and len(env.invoices(order_id)) == 1
    assert len(env.simulator.state.listing(KEY, "customers")) == 1


def test_the_services_refusal_names_the_field(env: Env) -> None:
    long_name = "Ceai " + "verde " * 60  # 365 characters; the service takes 255
    [order_id] = env.send(build_order(order_id=3003, items=(Item(long_name, "10.00", 1),)))
    env.worker.drain()
    row = env.row(order_id)
    assert row.state == "failed" and row.last_http_status == 400
    assert "items[0].name: must be at most 255 characters" in row.last_error
    assert env.invoices(order_id) == []


def test_401_pauses_the_shop(env: Env) -> None:
    env.simulator.state.add_fault("401", times=1)
    [order_id] = env.send(build_order(order_id=3004))
    env.worker.turn(dispatch_wait=True)
    with env.db.read() as session:
        state = session.get(ShopState, SHOP)
    assert state is not None and state.paused
    assert "Incorrect or missing API key" in state.paused_reason
    assert env.row(order_id).state == "retrying"


def test_a_wrong_base_url_pauses_the_shop(db_url: str, simulator: RunningSimulator,
                                          tmp_path: Path, clock: FakeClock) -> None:
    env = Env(db_url, simulator, tmp_path, clock, base_url=simulator.url + "/v1")
    try:
        env.send(build_order(order_id=3005))
        env.worker.turn(dispatch_wait=True)
        with env.db.read() as session:
            state = session.get(ShopState, SHOP)
        assert state is not None and state.paused and "HTTP 404" in state.paused_reason
    finally:
        env.db.dispose()


def test_a_lookup_that_finds_nothing_settles_an_earlier_unknown_outcome(
        env: Env, clock: FakeClock) -> None:
    """A reset leaves the first send's outcome unknown; the next attempt looks first, finds no
    invoice, and its create is refused by facturare.md itself: no invoice exists, so the row
    is failed with the reason -- not review."""
    env.simulator.state.configure(customer_faults=False)
    env.simulator.state.add_fault("reset", times=1)
    [order_id] = env.send(build_order(order_id=3006))
    env.worker.turn(dispatch_wait=True)
    assert env.outcomes(order_id) == ["retry_unknown"]
    env.simulator.state.add_fault("400", times=1)
    clock.advance(3600)
    env.worker.drain()
    row = env.row(order_id)
    assert env.invoices(order_id) == []
    assert row.state == "failed" and row.last_http_status == 400
    assert "earlier attempt" not in row.last_error
