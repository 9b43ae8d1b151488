"""The webhook receiver: ping, signatures, limits, and "stored before acknowledged"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import Delivery
from sandbox.woocommerce.sender import WooCommerceWebhook, error_payload, send_with_test_client
from tests.conftest import SHOP, WEBHOOK_SECRET

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = f"/webhooks/woocommerce/{SHOP}"


def order(n: int = 2) -> dict[str, Any]:
    return json.loads((FIXTURES / f"woo_order_example_{n}.json").read_text())


def hook(secret: str = WEBHOOK_SECRET) -> WooCommerceWebhook:
    return WooCommerceWebhook(delivery_url=f"http://localhost{PATH}", secret=secret)


def deliveries(db: Database) -> list[Delivery]:
    with db.read() as session:
        return list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())


def test_ping_answers_exactly_200_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    response = client.post(PATH, data=b"webhook_id=27",
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "User-Agent": "WooCommerce/9.9.5 Hookshot (WordPress/6.8.1)"})
    assert response.status_code == 200
    assert deliveries(db) == []


def test_authentic_delivery_is_stored_raw_before_the_200(client: FlaskClient,
                                                         db: Database) -> None:
    prepared = hook().build("order.created", order(2))
    response = send_with_test_client(client, PATH, prepared)

    assert response.status_code == 200
    assert response.get_json()["status"] == "accepted"
    [stored] = deliveries(db)
    assert stored.id == response.get_json()["delivery"]
    assert stored.body == prepared.body  # the exact bytes, PHP-escaped
    assert stored.topic == "order.created"
    assert stored.status == "received"  # processing is the worker's job
    assert stored.headers["X-WC-Webhook-Signature"] == prepared.header("X-WC-Webhook-Signature")
    assert stored.headers["X-WC-Webhook-Source"] == "https://shop.example/"
    assert stored.headers["User-Agent"].startswith("WooCommerce/")
    assert stored.delivery_id == prepared.header("X-WC-Webhook-Delivery-ID")
    assert stored.webhook_id == "1"


@pytest.mark.parametrize("signature", [None, "", "AAAA", "d3Jvbmc="])
def test_bad_or_missing_signature_is_401_and_not_stored(client: FlaskClient, db: Database,
                                                        signature: str | None) -> None:
    prepared = hook().build("order.created", order(1), signature=signature or "")
    headers = [(k, v) for k, v in prepared.headers
               if not (k == "X-WC-Webhook-Signature" and signature is None)]
    response = client.post(PATH, data=prepared.body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert deliveries(db) == []


def test_body_changed_after_signing_is_refused(client: FlaskClient, db: Database) -> None:
    prepared = hook().build("order.updated", order(1))
    tampered = prepared.body.replace(b'"total":"1005.00"', b'"total":"1.00"')
    assert tampered != prepared.body
    response = client.post(PATH, data=tampered, headers=prepared.headers)
    assert response.status_code == 401
    assert deliveries(db) == []


def test_wrong_secret_is_refused(client: FlaskClient, db: Database) -> None:
    response = send_with_test_client(client, PATH, hook("another-secret").build("order.created",
                                                                                order(1)))
    assert response.status_code == 401
    assert deliveries(db) == []


def test_unknown_shop_is_404(client: FlaskClient, db: Database) -> None:
    prepared = hook().build("order.created", order(1))
    response = client.post("/webhooks/woocommerce/nope", data=prepared.body,
                           headers=prepared.headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_shop"
    assert deliveries(db) == []


def test_oversized_body_is_413(make_settings: Any, db: Database) -> None:
    from bridge.web import create_app

    settings = make_settings({"server": {"max_body_bytes": 2048}})
    client = create_app(settings, db=db).test_client()
    prepared = hook().build("order.created", order(2))  # ~4.8 KB
    response = client.post(PATH, data=prepared.body, headers=prepared.headers)
    assert response.status_code == 413
    assert deliveries(db) == []


@pytest.mark.parametrize(("topic", "body"), [
    ("order.updated", b"{not json"),
    ("order.updated", b"[1, 2, 3]"),
    ("order.updated", json.dumps(error_payload("woocommerce_rest_cannot_view",
                                               "Sorry, you cannot view this resource.", 401)
                                 ).encode()),
    ("order.updated", json.dumps({"id": 5, "status": "checkout-draft"}).encode()),
    ("coupon.created", b'{"id": 9}'),
    ("action.woocommerce_order_status_completed", b'{"action":"x","arg":1187}'),
])
def test_content_problems_are_still_acknowledged_and_stored(client: FlaskClient, db: Database,
                                                            topic: str, body: bytes) -> None:
    # WooCommerce never retries and disables webhooks after repeated failures: anything
    # authentic must get a 2xx and be kept, however wrong its content is.
    prepared = hook().build(topic, None, body=body)
    response = send_with_test_client(client, PATH, prepared)
    assert response.status_code == 200
    [stored] = deliveries(db)
    assert stored.body == body and stored.topic == topic


def test_each_delivery_is_kept_even_when_identical(client: FlaskClient, db: Database) -> None:
    prepared = hook().build("order.updated", order(1))
    for _ in range(3):
        assert send_with_test_client(client, PATH, prepared).status_code == 200
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Delivery)).scalar() == 3


def test_database_down_spools_to_disk_and_still_acknowledges(make_settings: Any,
                                                             tmp_path: Path) -> None:
    from bridge.web import create_app

    # A database that cannot be opened: its folder does not exist.
    settings = make_settings({"database": {"url": f"sqlite:///{tmp_path}/missing/dir/x.db"}})
    client = create_app(settings).test_client()
    prepared = hook().build("order.created", order(1))
    response = send_with_test_client(client, PATH, prepared)

    assert response.status_code == 200
    assert response.get_json()["spooled"] is True
    files = list((tmp_path / "spool").glob("*.json"))
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    assert record["shop"] == SHOP and record["topic"] == "order.created"


def test_the_committer_survives_its_connection_being_dropped(db: Database,
                                                             tmp_path: Path) -> None:
    """The group committer keeps one connection between batches; when the server drops it
    (a restart, an idle timeout) the next delivery is still stored, not spooled."""
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    first = store.store(IncomingDelivery(shop=SHOP, topic="order.created", body=b'{"id": 1}'))
    kept = store.committer._connection  # the test looks inside, on purpose
    assert first.delivery_id is not None and kept is not None
    if db.is_postgres:
        with db.engine.connect() as admin:
            pid = kept.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            kept.commit()
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    else:  # SQLite has no server: close the handle under SQLAlchemy's feet instead
        kept.connection.dbapi_connection.close()  # type: ignore[union-attr]

    second = store.store(IncomingDelivery(shop=SHOP, topic="order.created", body=b'{"id": 2}'))

    assert second.delivery_id is not None and not second.spooled
    assert store.committer._connection is not kept
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 2
