"""Write-back end to end: the embedded bridge (web receiver + worker, SQLite), an in-memory
invoicing service, and the WooCommerce REST simulator, which sends its ``order.updated``
webhook -- signed, to the bridge's receiver -- for every save of an order through its API,
as a real shop does. Real HTTP on 127.0.0.1 throughout."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bridge.embedded import EmbeddedService
from bridge.errors import UpstreamRejected
from bridge.storage import queries
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import Delivery, DispatchAttempt, OrderSync, OrderWriteBack, ShopState
from bridge.upstreams.registry import UpstreamRegistry
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.rest_simulator import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    ApiKey,
    RestSimulatorState,
    RunningRestSimulator,
    run_rest_simulator,
)
from sandbox.woocommerce.rest_simulator.webhooks import ShopWebhooks
from sandbox.woocommerce.samples import Billing, build_order
from sandbox.woocommerce.sender import WooCommerceWebhook
from tests.conftest import SHOP, WEBHOOK_SECRET

READ_ONLY_KEY = "ck_" + "1" * 40
READ_ONLY_SECRET = "cs_" + "2" * 40


class Bridge:
    def __init__(self, service: EmbeddedService, shop: RunningRestSimulator,
                 webhooks: ShopWebhooks, upstream: InMemoryUpstream) -> None:
        self.service, self.shop, self.webhooks, self.upstream = service, shop, webhooks, upstream
        self.hook = WooCommerceWebhook(
            delivery_url=f"{service.url}/webhooks/woocommerce/{SHOP}", secret=WEBHOOK_SECRET)

    def order(self, order_id: int, **fields: Any) -> dict[str, Any]:
        """An order created in the shop: stored there and delivered as order.created."""
        order = self.shop.state.put_order(build_order(order_id=order_id, **fields))
        assert self.hook.deliver("order.created", order).ok
        return order

    def count(self, model: Any, *where: Any) -> int:
        with self.service.db.read() as session:
            return int(session.execute(select(func.count()).select_from(model).where(*where)
                                       ).scalar_one())

    def settle(self, until: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if until():
                self.webhooks.wait_idle()
                time.sleep(0.3)  # the echo's processing
                if until() and self.count(Delivery, Delivery.status == "received") == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("the bridge did not settle")

    def written(self) -> int:
        return self.count(OrderWriteBack, OrderWriteBack.state == "done")

    def meta(self, order_id: int) -> dict[str, Any]:
        order = self.shop.state.order(order_id) or {}
        return {entry["key"]: entry["value"] for entry in order.get("meta_data", [])}


@pytest.fixture
def bridge(make_settings: Any) -> Iterator[Callable[..., Bridge]]:
    started: list[tuple[EmbeddedService, RunningRestSimulator, ShopWebhooks]] = []

    def _start(*, key: tuple[str, str] = (DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET),
               dispatch: dict[str, Any] | None = None, **woocommerce: Any) -> Bridge:
        state = RestSimulatorState(ssl=False, keys=[
            ApiKey(DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET),
            ApiKey(READ_ONLY_KEY, READ_ONLY_SECRET, permissions="read")])
        shop = run_rest_simulator(state=state)
        settings = make_settings({"shops": [{"woocommerce": {
            "url": shop.url, "consumer_key": key[0], "consumer_secret": key[1],
            "write_back": True, "write_rate": 0, **woocommerce}}], **(
                {"dispatch": dispatch} if dispatch else {})})
        upstream = InMemoryUpstream()
        registry = UpstreamRegistry(settings, overrides={SHOP: upstream})
        db = Database.from_settings(settings.database)
        upgrade(db)  # PostgreSQL does not migrate on its own
        service = EmbeddedService(settings, host="127.0.0.1", port=0, upstreams=registry,
                                  db=db)
        service.__enter__()
        webhooks = ShopWebhooks(state, WooCommerceWebhook(
            delivery_url=f"{service.url}/webhooks/woocommerce/{SHOP}",
            secret=WEBHOOK_SECRET)).start()
        started.append((service, shop, webhooks))
        return Bridge(service, shop, webhooks, upstream)

    yield _start
    for service, shop, webhooks in started:
        webhooks.stop()
        service.__exit__(None, None, None)
        shop.stop()


def test_a_synced_order_gets_one_note_and_its_meta_and_the_echo_changes_nothing(
        bridge: Callable[..., Bridge]) -> None:
    b = bridge()
    b.order(3001)
    b.settle(lambda: b.written() == 1 and b.webhooks.count() >= 1)

    notes = b.shop.state.notes(3001)
    assert len(notes) == 1
    invoice_id = b.upstream.invoices[0].invoice_id
    with b.service.db.read() as session:
        number = session.execute(select(OrderSync.invoice_number)).scalar_one()
    assert notes[0]["note"] == f"Invoice {number} issued in memory."
    assert notes[0]["customer_note"] is False
    meta = b.meta(3001)
    assert meta["_invoice_bridge_state"] == "synced"
    assert meta["_invoice_bridge_invoice_id"] == invoice_id
    assert meta["_invoice_bridge_invoice_number"] == number
    # the shop's order.updated for our own save: recognised, nothing applied or sent
    assert b.webhooks.delivered == [(3001, 200)]
    assert b.count(Delivery, Delivery.outcome == "echo") == 1
    assert b.upstream.calls == 1
    assert b.count(DispatchAttempt) == 1
    # and nothing is written again
    time.sleep(0.5)
    assert len(b.shop.state.notes(3001)) == 1
    assert b.webhooks.count() == 1


def test_a_refused_order_gets_the_reason_then_the_invoice_once_fixed(
        bridge: Callable[..., Bridge]) -> None:
    b = bridge()
    b.upstream.fail_next(UpstreamRejected("billing.email: required", http_status=422))
    order = b.order(3002, billing=Billing(email=""))
    b.settle(lambda: b.written() == 1)
    [note] = b.shop.state.notes(3002)
    assert "billing.email: required" in note["note"]
    assert "press Update" in note["note"]
    assert b.meta(3002)["_invoice_bridge_state"] == "failed"

    # staff fix the e-mail and press Update: the shop saves the order and says so
    fixed = b.shop.state.put_order({**(b.shop.state.order(3002) or order),
                                    "billing": {**order["billing"], "email": "ana@example.md"},
                                    "date_modified_gmt": "2025-03-14T19:00:00"})
    assert b.hook.deliver("order.updated", fixed).ok
    b.settle(lambda: b.meta(3002).get("_invoice_bridge_state") == "synced")
    notes = b.shop.state.notes(3002)
    assert notes[0]["note"].startswith("Invoice ")  # newest first
    assert len(notes) == 2
    assert b.upstream.calls == 2


def test_a_lost_answer_is_read_back_and_never_makes_a_second_note(
        bridge: Callable[..., Bridge]) -> None:
    # read back after 2 x timeout (WordPress may still be at work), not sooner
    b = bridge(timeout="1s", dispatch={"retry": {"schedule": ["100ms"], "jitter": "none"}})
    # the note is added, then its answer is lost (a proxy's 502 after WordPress wrote it)
    b.shop.state.add_fault(502, target="write", after=True)
    b.order(3003)
    b.settle(lambda: b.written() == 1, timeout=60)
    assert len(b.shop.state.notes(3003)) == 1
    assert b.meta(3003)["_invoice_bridge_state"] == "synced"
    with b.service.db.read() as session:
        item = session.execute(select(OrderWriteBack)).scalar_one()
    assert item.attempts == 1  # one failed attempt, then read back: the note was there


def test_a_read_only_key_pauses_write_back_but_never_invoicing(
        bridge: Callable[..., Bridge]) -> None:
    b = bridge(key=(READ_ONLY_KEY, READ_ONLY_SECRET))
    b.order(3004)
    b.order(3005)
    b.settle(lambda: b.count(ShopState, ShopState.writeback_paused.is_(True)) == 1
             and b.count(OrderSync, OrderSync.state == "synced") == 2)
    assert b.shop.state.notes(3004) == []
    assert not any(key.startswith("_invoice_bridge_") for key in b.meta(3004))
    with b.service.db.read() as session:
        reason = session.execute(select(ShopState.writeback_paused_reason)).scalar_one()
        paused = session.execute(select(ShopState.paused)).scalar_one()
    assert "does not have write permissions" in (reason or "")
    assert paused is False  # invoicing goes on
    assert len(b.upstream.invoices) == 2
    with b.service.db.read() as session:  # what status, /metrics and the admin API count
        backlog = queries.tasks_by_state(session)[SHOP][queries.WRITEBACK_KIND]
    assert sum(backlog.values()) == 2 and "done" not in backlog


def test_a_note_written_after_the_client_gave_up_is_not_written_twice(
        bridge: Callable[..., Bridge]) -> None:
    # retried at once: the read-back comes while WordPress is still working on the note
    b = bridge(timeout="1s", dispatch={"retry": {"schedule": ["100ms"], "jitter": "none"}})
    slow = b.shop.state.add_fault(None, target="write", delay=2.0)
    b.order(3006)
    b.settle(lambda: b.written() == 1, timeout=60)
    time.sleep(2.5)  # the slow request has long finished
    assert slow.applied == 1
    assert [note["note"][:8] for note in b.shop.state.notes(3006)] == ["Invoice "]
