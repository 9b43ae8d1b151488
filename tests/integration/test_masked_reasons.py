"""The reasons the admin API shows and the logs carry do not quote a buyer's personal data,
even when the buyer typed it into the wrong field."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.config.model import Settings
from bridge.intake.process import DeliveryProcessor
from bridge.logs import JsonFormatter
from bridge.storage.database import Database
from bridge.upstreams.registry import UpstreamRegistry
from sandbox.woocommerce.samples import Billing, build_order
from sandbox.woocommerce.sender import WooCommerceWebhook, send_with_test_client
from tests.conftest import SHOP, WEBHOOK_SECRET, admin_headers

PATH = f"/webhooks/woocommerce/{SHOP}"


@pytest.fixture
def post_order(client: FlaskClient, db: Database, settings: Settings,
               memory_registry: UpstreamRegistry) -> Any:
    hook = WooCommerceWebhook(delivery_url=f"http://localhost{PATH}", secret=WEBHOOK_SECRET)

    def _post(payload: dict[str, Any]) -> None:
        assert send_with_test_client(client, PATH, hook.build("order.created", payload)
                                     ).status_code == 200
        DeliveryProcessor(db, settings, memory_registry).process_pending()
    return _post


def test_reasons_do_not_quote_a_buyers_name(client: FlaskClient, post_order: Any,
                                            caplog: pytest.LogCaptureFixture) -> None:
    # the buyer typed their name where the e-mail belongs, and again as the fiscal code
    order = build_order(order_id=61, billing=Billing(email="Elena Rusu"))
    order["meta_data"] = [{"id": 1, "key": "_billing_fiscal_code", "value": "Elena Rusu"}]
    with caplog.at_level(logging.INFO):
        post_order(order)
    detail = client.get(f"/admin/api/orders/{SHOP}/61", headers=admin_headers()).get_json()
    assert detail["order"]["state"] == "invalid"
    assert "billing.email" in detail["order"]["last_error"]
    shown = json.dumps([detail["order"]["last_error"], detail["deliveries"], detail["events"]])
    assert "Elena" not in shown and "Rusu" not in shown
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "cannot map the order" in logged
    assert "Elena" not in logged and "Rusu" not in logged
