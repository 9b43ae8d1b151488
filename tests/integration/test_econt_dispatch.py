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
from bridge.errors import UpstreamRejected
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import DispatchAttempt, OrderSync, ShopState
from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.econt.settings import EcontSettings
from bridge.woocommerce.php_json import php_json_encode
from sandbox.econt import RunningSimulator, SimulatorState, run_simulator
from sandbox.woocommerce.samples import sample_orders
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
    # a gateway's HTML page is not e-Cont.md's answer: it proves nothing either way
    pytest.param("gateway_after_create", {}, True, id="gateway-502-after-create"),
    pytest.param("gateway_after_create", {"status": 504}, True, id="gateway-504-after-create"),
    pytest.param("gateway", {}, False, id="gateway-502-before-processing"),
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


def put_requests(simulator: RunningSimulator) -> int:
    return int(simulator.state.stats()["put_requests"])


def test_a_gateway_502_after_create_is_not_sent_again_when_repeats_may_duplicate(
        env: Any, simulator: RunningSimulator, clock: FakeClock) -> None:
    """The hardening issue's case: an HTML 502 from a gateway after e-Cont.md created the
    invoice was read as "nothing created" and re-sent, making a second invoice."""
    env.configure(repeated_order="unknown")
    simulator.state.repeated_order = "create_new"
    simulator.state.add_fault("gateway_after_create", times=1)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    sync = env.row(order_id)
    assert sync.state == "review" and sync.last_http_status == 502
    assert "not e-Cont.md's own error answer" in sync.last_error
    clock.advance(86400)
    env.worker.drain()
    assert put_requests(simulator) == 1 and invoices_for(simulator, order_id) == 1


@pytest.mark.parametrize("mode", ["reject", "return_existing"])
def test_a_gateway_502_after_create_settles_without_a_second_invoice_when_repeats_are_safe(
        env: Any, simulator: RunningSimulator, clock: FakeClock, mode: str) -> None:
    env.configure(repeated_order=mode)
    simulator.state.repeated_order = mode
    simulator.state.add_fault("gateway_after_create", times=1)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    clock.advance(3600)
    env.worker.drain()
    assert env.row(order_id).state == "synced"
    assert put_requests(simulator) == 2 and invoices_for(simulator, order_id) == 1
    with env.db.read() as session:
        outcomes = session.execute(select(DispatchAttempt.outcome).order_by(
            DispatchAttempt.id)).scalars().all()
    assert outcomes == ["retry_unknown", "exists"]


def test_a_gateway_401_page_pauses_the_shop_and_the_row_waits_in_review(
        env: Any, simulator: RunningSimulator) -> None:
    env.configure(repeated_order="unknown")
    simulator.state.add_fault("gateway", status=401, times=1)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    with env.db.read() as session:
        shop = session.get(ShopState, SHOP)
    assert shop is not None and shop.paused and "HTTP 401" in shop.paused_reason
    sync = env.row(order_id)
    assert sync.state == "review" and "the invoice may exist" in sync.last_error


def test_a_gateway_401_page_with_a_deduping_upstream_pauses_and_retries_marked_unknown(
        env: Any, simulator: RunningSimulator) -> None:
    env.configure(repeated_order="return_existing")
    simulator.state.repeated_order = "return_existing"
    simulator.state.add_fault("gateway", status=401, times=1)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    sync = env.row(order_id)
    assert (sync.state, sync.attempts) == ("retrying", 0)
    with env.db.read() as session:
        assert session.get(ShopState, SHOP).paused
        [attempt] = session.execute(select(DispatchAttempt)).scalars().all()
    assert attempt.outcome == "paused_unknown"


@pytest.mark.parametrize(("mode", "state", "outcome"), [
    ("unknown", "review", "ambiguous"),
    ("return_existing", "retrying", "throttle_unknown"),
])
def test_a_gateway_429_page_still_throttles_but_its_outcome_is_unknown(
        env: Any, simulator: RunningSimulator, clock: FakeClock, mode: str, state: str,
        outcome: str) -> None:
    env.configure(repeated_order=mode)
    simulator.state.repeated_order = "create_new" if mode == "unknown" else mode
    simulator.state.add_fault("gateway", status=429, retry_after=90, times=1)
    [order_id] = env.send_orders()
    env.worker.turn(dispatch_wait=True)
    sync = env.row(order_id)
    assert sync.state == state and sync.last_http_status == 429
    with env.db.read() as session:
        [attempt] = session.execute(select(DispatchAttempt)).scalars().all()
    assert attempt.outcome == outcome
    if state == "retrying":
        assert sync.attempts == 0  # throttling is not counted
        assert sync.next_attempt_at >= clock.now() + timedelta(seconds=90)


def test_a_gateways_400_page_does_not_pass_the_credentials_check(
        simulator: RunningSimulator) -> None:
    """check-config reads e-Cont.md's own 400 to an empty put as "keys accepted"; a 400
    page from something in front of it says nothing about the keys."""
    upstream = EcontUpstream(EcontSettings(base_url=simulator.url, client_id=CLIENT_ID,
                                           token=TOKEN))
    try:
        assert upstream.check_credentials().startswith("credentials accepted")
        simulator.state.add_fault("gateway", status=400, times=1)
        with pytest.raises(UpstreamRejected) as refused:
            upstream.check_credentials()
        assert refused.value.ambiguous and refused.value.http_status == 400
    finally:
        upstream.close()
