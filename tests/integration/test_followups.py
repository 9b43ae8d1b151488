"""Follow-up tasks: an invoiced order's payment, cancellation and refunds, each done once
upstream -- looked up after a lost answer, never sent twice -- against the in-memory
upstream that has every capability (and, as the control, one that has none)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.cli import cli
from bridge.clock import FakeClock
from bridge.config.model import Settings
from bridge.dispatch.worker import Worker
from bridge.errors import UpstreamConnectionError, UpstreamRejected
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import OrderSync, OrderTask, SyncEvent
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.config import write_config
from sandbox.memory import InMemoryUpstream, LookupInMemoryUpstream
from sandbox.woocommerce.samples import build_order
from tests.conftest import SHOP, base_config

T0 = datetime(2026, 3, 14, 16, 42, 7, tzinfo=UTC)


class Shop:
    """One shop on an in-memory upstream: deliver snapshots, run the worker, look."""

    def __init__(self, settings: Settings, db: Database, tmp_path: Path,
                 upstream: InMemoryUpstream) -> None:
        self.db, self.upstream = db, upstream
        self.clock = FakeClock(datetime(2026, 3, 15, tzinfo=UTC))
        registry = UpstreamRegistry(settings, overrides={SHOP: upstream})
        self.store = DeliveryStore(db, Spool(tmp_path / "spool"))
        self.processor = DeliveryProcessor(db, settings, registry, self.clock)
        self.worker = Worker(settings, db, upstreams=registry, clock=self.clock,
                             worker_id="w1")
        self.version = 0

    def deliver(self, order_id: int = 1187, **changes: Any) -> None:
        self.version += 1
        order = build_order(order_id=order_id, date_created_gmt=T0,
                            date_modified_gmt=T0 + timedelta(minutes=self.version))
        order.update(changes)
        self.store.store(IncomingDelivery(shop=SHOP, topic="order.updated",
                                          body=php_json_encode(order)))
        self.processor.process_pending()

    def run(self, advance: float = 0) -> None:
        self.clock.advance(advance)
        self.worker.drain()

    def row(self, order_id: int = 1187) -> OrderSync:
        with self.db.read() as session:
            return session.execute(select(OrderSync).where(OrderSync.order_id == order_id)
                                   ).scalar_one()

    def tasks(self) -> list[OrderTask]:
        with self.db.read() as session:
            return list(session.execute(select(OrderTask).order_by(OrderTask.id)).scalars())

    def events(self) -> list[str]:
        with self.db.read() as session:
            return list(session.execute(select(SyncEvent.detail).where(SyncEvent.kind == "task")
                                        .order_by(SyncEvent.id)).scalars())


@pytest.fixture
def full(make_settings: Any, db: Database, tmp_path: Path) -> Any:
    def _shop(**shop_settings: Any) -> Shop:
        settings = make_settings({"shops": [shop_settings]})
        return Shop(settings, db, tmp_path, LookupInMemoryUpstream(kind="econt"))
    return _shop


def refunded(amount: str, refund_id: int = 88) -> list[dict[str, Any]]:
    return [{"id": refund_id, "reason": "one item returned", "total": f"-{amount}"}]


def test_a_paid_order_gets_its_payment_recorded_once(full: Any) -> None:
    shop = full()
    shop.deliver()  # processing, date_paid_gmt set: invoice, then payment
    shop.run()
    assert shop.row().state == "synced"
    [task] = shop.tasks()
    assert (task.kind, task.state, task.attempts) == ("payment", "done", 1)
    [payment] = shop.upstream.payments.values()
    assert payment.invoice_id == shop.row().invoice_id and str(payment.amount) == "1005.00"
    assert payment.paid_on.isoformat() == "2026-03-14" and payment.key == f"{SHOP}:1187"
    shop.deliver()  # the same paid order again, and again
    shop.deliver(status="completed")
    shop.run()
    assert len(shop.tasks()) == 1 and len(shop.upstream.payments) == 1
    assert any(event.startswith("payment done upstream") for event in shop.events())


def test_an_unpaid_order_gets_no_payment_until_it_is_paid(full: Any) -> None:
    shop = full()
    shop.deliver(status="on-hold", date_paid_gmt=None)  # bank transfer awaited
    shop.run()
    assert shop.row().state == "synced" and shop.tasks() == []
    shop.deliver(status="processing", date_paid_gmt="2026-03-16T09:00:00")
    shop.run()
    [task] = shop.tasks()
    assert task.state == "done" and task.payload["paid_on"] == "2026-03-16"


def test_a_payment_whose_answer_was_lost_is_looked_up_not_recorded_twice(full: Any) -> None:
    shop = full()
    shop.deliver(status="on-hold", date_paid_gmt=None)
    shop.run()
    shop.upstream.fail_next(UpstreamConnectionError("connection lost", ambiguous=True),
                            after_create=True)
    shop.deliver()  # now paid
    shop.run()
    [task] = shop.tasks()
    assert task.state == "retrying" and task.unknown
    shop.run(advance=3600)
    [task] = shop.tasks()
    assert task.state == "done" and len(shop.upstream.payments) == 1
    assert "it was already there" in shop.events()[-1]


def test_a_killed_workers_task_is_reaped_and_looked_up(full: Any) -> None:
    shop = full()
    shop.deliver(status="on-hold", date_paid_gmt=None)
    shop.run()
    shop.deliver()
    with shop.db.transaction() as session:
        [claim] = shop.worker.tasks.claim(session, limit=5, now=shop.clock.now())
    shop.worker.tasks.send(claim, now=shop.clock.now(), stopping=False)  # then it dies
    shop.run(advance=3600)  # its lease expired long ago
    [task] = shop.tasks()
    assert task.state == "done" and task.attempts == 2 and len(shop.upstream.payments) == 1


def test_a_refused_payment_fails_with_the_reason(full: Any) -> None:
    shop = full()
    shop.deliver(status="on-hold", date_paid_gmt=None)
    shop.run()
    shop.upstream.fail_next(UpstreamRejected("HTTP 403: invoice already paid", http_status=403))
    shop.deliver()
    shop.run()
    [task] = shop.tasks()
    assert task.state == "failed" and "already paid" in task.last_error
    assert shop.row().state == "synced"  # the invoice itself is fine


def test_payments_can_be_switched_off(full: Any) -> None:
    shop = full(record_payments=False)
    shop.deliver()
    shop.run()
    assert shop.row().state == "synced" and shop.tasks() == []


@pytest.mark.parametrize(("policy", "row_state", "task_state"), [
    ("review", "review", None),
    ("cancel", "synced", "done"),
])
def test_a_cancelled_order_follows_the_shops_policy(full: Any, policy: str, row_state: str,
                                                   task_state: str | None) -> None:
    shop = full(after_cancel=policy)
    shop.deliver()
    shop.run()
    shop.deliver(status="cancelled")
    shop.run()
    assert shop.row().state == row_state
    cancels = [task for task in shop.tasks() if task.kind == "cancel"]
    assert [task.state for task in cancels] == ([task_state] if task_state else [])
    assert len(shop.upstream.cancelled) == (1 if task_state else 0)


def test_a_refund_gets_a_correction_when_the_shop_says_so(full: Any) -> None:
    shop = full(after_cancel="correct")
    shop.deliver()
    shop.run()
    shop.deliver(refunds=refunded("155.00"))
    shop.run()
    [correction] = [task for task in shop.tasks() if task.kind == "correction"]
    assert correction.state == "done" and shop.row().state == "synced"
    [sent] = shop.upstream.corrections.values()
    assert (str(sent.amount), sent.refund_id, sent.reason) == ("155.00", 88,
                                                               "one item returned")
    shop.deliver(refunds=refunded("155.00"))  # delivered again: nothing new
    shop.run()
    assert len(shop.upstream.corrections) == 1


def test_by_default_a_refund_after_invoicing_stops_for_a_person(full: Any) -> None:
    shop = full()
    shop.deliver()
    shop.run()
    shop.deliver(refunds=refunded("155.00"))
    shop.run()
    assert shop.row().state == "review" and "refunded after invoicing" in shop.row().last_error
    [correction] = [task for task in shop.tasks() if task.kind == "correction"]
    assert correction.state == "review" and shop.upstream.corrections == {}


def test_an_upstream_that_cannot_cancel_leaves_it_to_a_person(
        make_settings: Any, db: Database, tmp_path: Path) -> None:
    settings = make_settings({"shops": [{"after_cancel": "cancel"}]})
    shop = Shop(settings, db, tmp_path, InMemoryUpstream(kind="econt"))
    shop.deliver()
    shop.run()
    shop.deliver(status="cancelled")
    shop.run()
    assert shop.row().state == "review" and shop.tasks() == []


def test_tasks_show_in_metrics_and_status(full: Any, client: Any, runner: Any,
                                          settings: Settings, tmp_path: Path) -> None:
    shop = full()
    shop.deliver(status="on-hold", date_paid_gmt=None)
    shop.run()
    shop.upstream.fail_next(UpstreamRejected("HTTP 422: no bank account", http_status=422))
    shop.deliver()
    shop.run()
    metrics = client.get("/metrics", headers={"Authorization": "Bearer x"}).get_data(True)
    assert 'invoice_bridge_tasks{kind="payment",shop="shop",state="failed"} 1.0' in metrics
    config = write_config(tmp_path / "status.toml",
                          base_config(tmp_path, db_url=settings.database.url))
    result = runner.invoke(cli, ["--config", str(config), "status", "--check"])
    assert "payment tasks: failed 1" in result.output and result.exit_code == 1


def test_a_refusal_after_a_lookup_that_found_nothing_fails_not_review(full: Any) -> None:
    shop = full()
    shop.deliver(status="on-hold", date_paid_gmt=None)
    shop.run()
    shop.upstream.fail_next(UpstreamConnectionError("connection lost", ambiguous=True))
    shop.deliver()  # paid: the payment's answer is lost, nothing was recorded
    shop.run()
    shop.upstream.fail_next(UpstreamRejected("HTTP 422: amount too high", http_status=422))
    shop.run(advance=3600)  # looked up: not there; then refused
    [task] = shop.tasks()
    assert task.state == "failed" and not task.unknown and shop.upstream.payments == {}
