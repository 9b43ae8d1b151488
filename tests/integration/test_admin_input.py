"""Hostile admin API input is a 400 naming the field -- never a 500, never a different
order."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.config.model import Settings
from bridge.intake.process import DeliveryProcessor
from bridge.storage.database import Database
from bridge.upstreams.registry import UpstreamRegistry
from sandbox.woocommerce.samples import build_order
from sandbox.woocommerce.sender import WooCommerceWebhook, send_with_test_client
from tests.conftest import SHOP, WEBHOOK_SECRET, admin_headers

PATH = f"/webhooks/woocommerce/{SHOP}"
ARABIC_INDIC_1187 = "\u0661\u0661\u0668\u0667"  # int() reads it as 1187


@pytest.fixture
def post_order(client: FlaskClient, db: Database, settings: Settings,
               memory_registry: UpstreamRegistry) -> Any:
    hook = WooCommerceWebhook(delivery_url=f"http://localhost{PATH}", secret=WEBHOOK_SECRET)

    def _post(payload: dict[str, Any]) -> None:
        assert send_with_test_client(client, PATH, hook.build("order.created", payload)
                                     ).status_code == 200
        DeliveryProcessor(db, settings, memory_registry).process_pending()
    return _post


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("raw", [
    json.dumps(["2026-01-01T00:00:00+00:00", 10**30]),   # past BIGINT: the database refused
    json.dumps(["2026-01-01T00:00:00+00:00", 2**63]),
    "[" * 5000 + "]" * 5000,                             # the JSON parser's recursion
    json.dumps(["2026-01-01T00:00:00+00:00", True]),
    json.dumps(["2026-01-01T00:00:00+00:00", 1.5]),
    json.dumps([["2026-01-01T00:00:00+00:00"], 1]),
    json.dumps(["2026-01-01T00:00:00+00:00", 0]),
    json.dumps({"a": 1, "b": 2}),
    json.dumps(["x" * 300, 1]),
])
def test_a_forged_cursor_is_a_400(client: FlaskClient, raw: str) -> None:
    response = client.get("/admin/api/orders", query_string={"cursor": cursor(raw)},
                          headers=admin_headers())
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["message"].startswith(
        "cursor: not a cursor this API returned")


@pytest.mark.parametrize("url", [
    "/admin/api/resync",
    f"/admin/api/orders/{SHOP}/8/resync",
    f"/admin/api/orders/{SHOP}/8/skip",
    f"/admin/api/orders/{SHOP}/8/acknowledge",
    f"/admin/api/shops/{SHOP}/pause",
])
def test_a_deeply_nested_json_body_is_a_400(client: FlaskClient, url: str) -> None:
    response = client.post(url, data=b"[" * 100_000 + b"]" * 100_000,
                           content_type="application/json", headers=admin_headers())
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "body: JSON nested too deeply"


@pytest.mark.parametrize(("method", "suffix"), [
    ("get", ""), ("post", "/resync"), ("post", "/skip"), ("post", "/acknowledge"),
])
@pytest.mark.parametrize("order_id", [ARABIC_INDIC_1187, "0", str(2**63), "1e3", "+1187",
                                      "1187 "])
def test_order_ids_in_paths_are_ascii_digits_within_bigint(
        client: FlaskClient, post_order: Any, method: str, suffix: str, order_id: str) -> None:
    post_order(build_order(order_id=1187))
    response = getattr(client, method)(f"/admin/api/orders/{SHOP}/{order_id}{suffix}",
                                       json={"reason": "r"}, headers=admin_headers())
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["message"].startswith("order_id: must be a whole number")


def test_the_largest_order_id_is_an_order_id(client: FlaskClient, post_order: Any) -> None:
    post_order(build_order(order_id=1187))
    assert client.get(f"/admin/api/orders/{SHOP}/1187",
                      headers=admin_headers()).status_code == 200
    response = client.get(f"/admin/api/orders/{SHOP}/{2**63 - 1}", headers=admin_headers())
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("ids", [[2**63], [1, 2**64], [0], [True], ["1187"]])
def test_bulk_order_ids_are_within_bigint(client: FlaskClient, ids: list[Any]) -> None:
    response = client.post("/admin/api/resync", json={"shop": SHOP, "order_ids": ids},
                           headers=admin_headers())
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["message"].startswith("order_ids[")


@pytest.mark.parametrize(("method", "suffix"), [
    ("get", ""), ("post", "/skip"), ("post", "/acknowledge"),
])
@pytest.mark.parametrize("shop", ["sh%00op", "%F0%9F%9B%92", "x" * 300])
def test_a_shop_that_cannot_exist_is_a_404_before_the_database(
        client: FlaskClient, post_order: Any, method: str, suffix: str, shop: str) -> None:
    # PostgreSQL refuses NUL in text: such a path was a 500
    post_order(build_order(order_id=1187))
    response = getattr(client, method)(f"/admin/api/orders/{shop}/1187{suffix}",
                                       json={"reason": "r"}, headers=admin_headers())
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["code"] == "not_found"
