"""Processing stored deliveries into sync rows (the worker's intake step)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.config.model import Settings
from bridge.dispatch.worker import Worker
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import Delivery, OrderSync, SyncEvent
from bridge.upstreams.registry import UpstreamRegistry
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.samples import Billing, build_order
from sandbox.woocommerce.sender import (
    action_payload,
    deleted_payload,
    error_payload,
    php_json_encode,
)
from tests.conftest import SHOP

T0 = datetime(2026, 3, 14, 16, 42, 7, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 15, tzinfo=UTC))


@pytest.fixture
def processor(db: Database, settings: Settings, memory_registry: UpstreamRegistry,
              clock: FakeClock) -> DeliveryProcessor:
    return DeliveryProcessor(db, settings, memory_registry, clock)


@pytest.fixture
def deliver(db: Database, tmp_path: Path, processor: DeliveryProcessor) -> Any:
    store = DeliveryStore(db, Spool(tmp_path / "spool"))

    def _deliver(topic: str, payload: Any = None, *, body: bytes | None = None,
                 wc_delivery_id: str | None = None) -> Delivery:
        receipt = store.store(IncomingDelivery(
            shop=SHOP, topic=topic, body=body if body is not None else php_json_encode(payload),
            delivery_id=wc_delivery_id))
        assert processor.process_pending() == 1
        with db.read() as session:
            return session.get(Delivery, receipt.delivery_id)
    return _deliver


def order(minutes: int = 0, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("order_id", 1187)
    return build_order(date_created_gmt=T0, date_modified_gmt=T0 + timedelta(minutes=minutes),
                       **kwargs)


def row(db: Database, order_id: int = 1187) -> OrderSync | None:
    with db.read() as session:
        return session.execute(select(OrderSync).where(OrderSync.order_id == order_id)
                               ).scalar_one_or_none()


def events(db: Database) -> list[str]:
    with db.read() as session:
        return [e.detail for e in session.execute(select(SyncEvent).order_by(SyncEvent.id))
                .scalars()]


def test_new_order_becomes_a_pending_row_with_its_payload(deliver: Any, db: Database,
                                                          clock: FakeClock) -> None:
    delivery = deliver("order.created", order(number="A-1187"))
    assert (delivery.status, delivery.outcome, delivery.order_id) == ("processed", "applied", 1187)
    sync = row(db)
    assert sync is not None
    assert sync.state == "pending" and sync.next_attempt_at == clock.now()
    assert sync.order_number == "A-1187" and sync.order_status == "processing"
    assert sync.payload is not None and sync.payload["order_id"] == 1187
    assert sync.content_hash and sync.snapshot_modified_at == T0
    assert sync.last_delivery_id == delivery.id


def test_repeated_snapshot_changes_nothing(deliver: Any, db: Database) -> None:
    deliver("order.created", order())
    first = row(db)
    again = deliver("order.updated", order())
    assert again.outcome == "unchanged"
    assert row(db).content_hash == first.content_hash


def test_status_change_alone_is_not_a_content_change(deliver: Any, db: Database) -> None:
    deliver("order.created", order(status="processing"))
    later = deliver("order.updated", order(5, status="completed"))
    assert later.outcome == "unchanged"
    assert row(db).order_status == "completed"


def test_newer_snapshot_replaces_a_pending_one(deliver: Any, db: Database) -> None:
    deliver("order.created", order())
    before = row(db).content_hash
    outcome = deliver("order.updated", order(3, customer_note="Ring twice", billing=Billing(
        email="new@mail.example")))
    assert outcome.outcome == "applied"
    after = row(db)
    assert after.content_hash != before and after.payload["email"] == "new@mail.example"
    assert after.state == "pending"


def test_older_snapshot_never_overwrites_a_newer_one(deliver: Any, db: Database) -> None:
    deliver("order.updated", order(10, billing=Billing(email="newest@mail.example")))
    late = deliver("order.updated", order(2, billing=Billing(email="older@mail.example")))
    assert late.outcome == "stale" and "older than the snapshot already applied" in late.reason
    sync = row(db)
    assert sync.payload["email"] == "newest@mail.example"
    assert sync.snapshot_modified_at == T0 + timedelta(minutes=10)


def test_delivery_id_is_not_a_key(deliver: Any, db: Database) -> None:
    # WooCommerce derives X-WC-Webhook-Delivery-ID from the second: it repeats across orders.
    deliver("order.created", order(order_id=1), wc_delivery_id="a" * 32)
    deliver("order.created", order(order_id=2), wc_delivery_id="a" * 32)
    assert row(db, 1) is not None and row(db, 2) is not None


def test_status_that_does_not_invoice_is_skipped_then_picked_up(deliver: Any,
                                                                db: Database) -> None:
    deliver("order.created", order(status="pending"))
    sync = row(db)
    assert sync.state == "skipped"
    assert "status 'pending' does not create an invoice" in sync.last_error
    deliver("order.updated", order(4, status="processing"))
    assert row(db).state == "pending"


def test_zero_total_order_is_skipped_unless_configured(deliver: Any, db: Database,
                                                      make_settings: Any, tmp_path: Path,
                                                      memory_upstream: InMemoryUpstream) -> None:
    free = order(coupon_percent=100, shipping=None)
    deliver("order.created", free)
    sync = row(db)
    assert sync.state == "skipped" and "total is 0" in sync.last_error

    settings = make_settings({"shops": [{"invoice_zero_total": True}]})
    registry = UpstreamRegistry(settings, overrides={SHOP: memory_upstream})
    DeliveryStore(db, Spool(tmp_path / "spool")).store(IncomingDelivery(
        shop=SHOP, topic="order.updated", body=php_json_encode(order(1, coupon_percent=100,
                                                                     shipping=None))))
    DeliveryProcessor(db, settings, registry).process_pending()
    assert row(db).state == "pending"


def test_checkout_draft_is_ignored_without_a_row(deliver: Any, db: Database) -> None:
    delivery = deliver("order.updated", order(status="checkout-draft"))
    assert delivery.outcome == "ignored" and "checkout-draft" in delivery.reason
    assert row(db) is None


def test_unmappable_order_is_recorded_on_its_row_with_the_fields(deliver: Any,
                                                                 db: Database) -> None:
    bad = order(currency="XX1", billing=Billing(email=""))
    delivery = deliver("order.created", bad)
    assert delivery.outcome == "invalid"
    sync = row(db)
    assert sync.state == "invalid" and sync.payload is None
    assert "billing.email" in sync.last_error and "currency" in sync.last_error
    fixed = deliver("order.updated", order(1))
    assert fixed.outcome == "applied" and row(db).state == "pending"


#: an IDNO whose check digit does not match (1012600034562 is right)
MISTYPED_IDNO = Billing(company="Agroprim Nord SRL", fiscal_code="1012600034567")
IDNO_REASON = ("meta_data[_billing_fiscal_code]: IDNO 1012600034567 fails its check digit")


def test_idno_failing_its_check_digit_makes_the_row_invalid(deliver: Any,
                                                            db: Database) -> None:
    delivery = deliver("order.created", order(billing=MISTYPED_IDNO))
    assert delivery.outcome == "invalid"
    sync = row(db)
    assert sync.state == "invalid" and sync.payload is None
    assert IDNO_REASON in sync.last_error


def test_warn_sends_the_idno_and_notes_it_on_the_row(make_settings: Any,
                                                    tmp_path: Path) -> None:
    settings = make_settings({"shops": [{"fiscal_code_check": "warn"}]})
    db = Database.from_settings(settings.database)
    from bridge.storage.migrate import upgrade
    upgrade(db)
    # the e-Cont.md adapter renders the payload (nothing is sent here): it shows the IDNO
    processor = DeliveryProcessor(db, settings, UpstreamRegistry(settings))
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    for topic in ("order.created", "order.updated"):  # the same snapshot twice
        store.store(IncomingDelivery(shop=SHOP, topic=topic,
                                     body=php_json_encode(order(billing=MISTYPED_IDNO))))
        processor.process_pending()
    sync = row(db)
    assert sync.state == "pending" and sync.payload["order"]["billing"]["idno"] == "1012600034567"
    [note] = events(db)  # once: the repeat changed nothing
    assert note.startswith(f"mapping: {IDNO_REASON}") and note.endswith(
        'sent as given (fiscal_code_check = "warn")')
    db.dispose()


def test_order_without_a_usable_id_is_recorded_on_the_delivery(deliver: Any,
                                                               db: Database) -> None:
    delivery = deliver("order.created", {"status": "processing", "total": "1.00"})
    assert delivery.outcome == "invalid" and "id" in delivery.reason


@pytest.mark.parametrize(("topic", "body", "outcome", "reason"), [
    ("order.updated", b"{nope", "invalid", "not valid JSON"),
    ("order.updated", b"[1]", "invalid", "must be a JSON object"),
    ("order.updated", php_json_encode(error_payload(
        "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", 401)),
     "error_payload", "woocommerce_rest_cannot_view"),
    ("action.woocommerce_order_status_completed",
     php_json_encode(action_payload("woocommerce_order_status_completed", 1187)),
     "ignored", "subscribe the webhook to order.created"),
    ("coupon.created", b'{"id":1}', "ignored", "not about orders"),
    ("order.teleported", b'{"id":1}', "ignored", "not handled"),
])
def test_deliveries_that_carry_no_order(deliver: Any, db: Database, topic: str, body: bytes,
                                        outcome: str, reason: str) -> None:
    delivery = deliver(topic, body=body)
    assert delivery.outcome == outcome and reason in delivery.reason
    assert row(db) is None


def test_deleted_before_invoicing_is_skipped_and_restore_revives(deliver: Any,
                                                                 db: Database) -> None:
    deliver("order.created", order(status="on-hold"))
    deleted = deliver("order.deleted", deleted_payload(1187))
    assert deleted.outcome == "applied"
    sync = row(db)
    assert sync.state == "skipped" and sync.deleted_in_shop
    assert "deleted (trashed) in the shop" in sync.last_error
    deliver("order.restored", order(9, status="on-hold"))
    sync = row(db)
    assert sync.state == "pending" and not sync.deleted_in_shop


def test_delete_of_an_unknown_order_is_ignored(deliver: Any, db: Database) -> None:
    assert deliver("order.deleted", deleted_payload(42)).outcome == "ignored"
    assert row(db, 42) is None


@pytest.fixture
def synced(deliver: Any, db: Database, settings: Settings, memory_registry: UpstreamRegistry,
           memory_upstream: InMemoryUpstream, clock: FakeClock) -> Any:
    """Deliver an order and let the worker invoice it."""
    def _synced(payload: dict[str, Any]) -> OrderSync:
        deliver("order.created", payload)
        Worker(settings, db, upstreams=memory_registry, clock=clock).drain()
        sync = row(db)
        assert sync.state == "synced" and len(memory_upstream.invoices) == 1
        return sync
    return _synced


def test_change_after_invoicing_stops_for_review(synced: Any, deliver: Any, db: Database,
                                                 memory_upstream: InMemoryUpstream) -> None:
    synced(order())
    deliver("order.updated", order(30, billing=Billing(email="changed@mail.example")))
    sync = row(db)
    assert sync.state == "review"
    assert "order changed after invoicing" in sync.last_error and "email" in sync.last_error
    assert len(memory_upstream.invoices) == 1  # nothing re-sent on its own


def test_cancellation_after_invoicing_stops_for_review(synced: Any, deliver: Any,
                                                       db: Database) -> None:
    synced(order())
    deliver("order.updated", order(30, status="cancelled"))
    sync = row(db)
    assert sync.state == "review" and "status 'cancelled' does not create" in sync.last_error


def test_completed_after_invoicing_is_just_the_normal_life(synced: Any, deliver: Any,
                                                           db: Database) -> None:
    synced(order())
    assert deliver("order.updated", order(30, status="completed")).outcome == "unchanged"
    assert row(db).state == "synced"


def test_ignore_policy_keeps_synced_and_records(make_settings: Any, tmp_path: Path,
                                                memory_upstream: InMemoryUpstream) -> None:
    settings = make_settings({"shops": [{"on_change": "ignore"}]})
    db = Database.from_settings(settings.database)
    from bridge.storage.migrate import upgrade
    upgrade(db)
    registry = UpstreamRegistry(settings, overrides={SHOP: memory_upstream})
    processor = DeliveryProcessor(db, settings, registry)
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    for payload in (order(), ):
        store.store(IncomingDelivery(shop=SHOP, topic="order.created",
                                     body=php_json_encode(payload)))
    processor.process_pending()
    Worker(settings, db, upstreams=registry).drain()
    store.store(IncomingDelivery(shop=SHOP, topic="order.updated",
                                 body=php_json_encode(order(30, customer_note="changed"))))
    processor.process_pending()
    assert row(db).state == "synced"
    assert any("ignored by policy" in e for e in events(db))
    db.dispose()
