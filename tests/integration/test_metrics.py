"""/metrics: Prometheus text with work counters and system gauges read from the database."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from bridge.storage.database import Database
from bridge.storage.repository import set_shop_paused
from sandbox.woocommerce.samples import build_order
from sandbox.woocommerce.sender import WooCommerceWebhook, send_with_test_client
from tests.conftest import SHOP, WEBHOOK_SECRET


def samples(client: FlaskClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def test_metrics_count_deliveries_and_read_state(client: FlaskClient, db: Database) -> None:
    def delivered() -> float:
        key = ("invoice_bridge_deliveries_total",
               frozenset({("shop", SHOP), ("topic", "order.created"), ("outcome", "stored")}))
        return samples(client).get(key, 0.0)

    before = delivered()
    hook = WooCommerceWebhook(delivery_url=f"http://localhost/webhooks/woocommerce/{SHOP}",
                              secret=WEBHOOK_SECRET)
    send_with_test_client(client, f"/webhooks/woocommerce/{SHOP}",
                          hook.build("order.created", build_order(order_id=5)))
    assert delivered() == before + 1

    with db.transaction() as session:
        set_shop_paused(session, SHOP, True, "maintenance")
    values = samples(client)
    assert values[("invoice_bridge_shop_paused", frozenset({("shop", SHOP)}))] == 1.0
    assert values[("invoice_bridge_database_up", frozenset())] == 1.0
    assert values[("invoice_bridge_spool_files", frozenset())] == 0.0
    assert ("invoice_bridge_oldest_due_seconds", frozenset()) in values


def test_metrics_expose_no_personal_data(client: FlaskClient) -> None:
    hook = WooCommerceWebhook(delivery_url=f"http://localhost/webhooks/woocommerce/{SHOP}",
                              secret=WEBHOOK_SECRET)
    send_with_test_client(client, f"/webhooks/woocommerce/{SHOP}",
                          hook.build("order.created", build_order(order_id=6)))
    text = client.get("/metrics").get_data(as_text=True)
    assert not re.search(r"@|elena|\+373", text)


def series(client: FlaskClient) -> set[tuple[str, frozenset[tuple[str, str]]]]:
    return set(samples(client))


def test_forged_topics_and_shops_add_no_series(client: FlaskClient) -> None:
    def forge(topic: str, shop: str = SHOP) -> None:
        response = client.post(f"/webhooks/woocommerce/{shop}", data=b"{}", headers={
            "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": "forged"})
        assert response.status_code in (401, 404)

    forge("order.created")
    forge("forged.first")
    forge("action.woocommerce_first")
    forge("order.created", shop="no-such-shop-first")
    before = series(client)
    for index in range(3000):
        forge(f"forged.topic.{index}")
        if index % 10 == 0:
            forge(f"action.woocommerce_{index}")
            forge("order.created", shop=f"no-such-shop-{index}")
    after = series(client)
    assert after == before
    values = {value for _, labels in after for _, value in labels}
    assert {"other", "action.*", "unknown"} <= values
    assert not any(value.startswith(("forged.", "action.woocommerce_", "no-such-shop"))
                   for value in values)
