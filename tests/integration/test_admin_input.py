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


# --- the server and its document agree ----------------------------------------------------
# Each case below was a disagreement schemathesis found: the server refused what the document
# allows, or accepted what it forbids. The document now says what the server does.

REQUEST_BODIES = {
    "/admin/api/resync": "BulkResyncRequest",
    f"/admin/api/orders/{SHOP}/1187/resync": "ResyncOptions",
    f"/admin/api/orders/{SHOP}/1187/skip": "SkipRequest",
    f"/admin/api/orders/{SHOP}/1187/acknowledge": "AcknowledgeRequest",
    f"/admin/api/shops/{SHOP}/pause": "PauseRequest",
}


def _document_allows(schema_name: str, body: Any) -> bool:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from bridge.admin.openapi import openapi_document

    document = openapi_document()
    registry: Registry[Any] = Registry().with_resource(
        "urn:doc", Resource.from_contents(document, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{schema_name}"},
                                     registry=registry,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    return validator.is_valid(body)


@pytest.mark.parametrize(("url", "body", "accepted"), [
    (f"/admin/api/orders/{SHOP}/1187/resync", {"force": None}, False),  # was accepted
    (f"/admin/api/orders/{SHOP}/1187/resync", {"force": True}, True),
    (f"/admin/api/shops/{SHOP}/pause", {"reason": None}, False),  # was accepted
    (f"/admin/api/shops/{SHOP}/pause", {"reason": ""}, False),  # the document allowed it
    (f"/admin/api/shops/{SHOP}/pause", {"reason": "\t \n"}, False),
    (f"/admin/api/shops/{SHOP}/pause", {"reason": "night work"}, True),
    (f"/admin/api/orders/{SHOP}/1187/skip", {"reason": "x" * 501}, False),
    (f"/admin/api/orders/{SHOP}/1187/skip", {"reason": "a\u0000b"}, False),  # PostgreSQL
    (f"/admin/api/orders/{SHOP}/1187/acknowledge", {"note": ""}, False),
    ("/admin/api/resync", {"shop": SHOP, "order_ids": [1187.0, 5]}, True),  # was refused
    ("/admin/api/resync", {"shop": SHOP, "order_ids": [1187.5]}, False),
    ("/admin/api/resync", {"shop": SHOP, "order_ids": [1], "state": "lost"}, False),  # was taken
    ("/admin/api/resync", {"shop": SHOP, "state": "failed", "force": None}, False),
])
def test_request_bodies_are_accepted_exactly_when_the_document_allows_them(
        client: FlaskClient, post_order: Any, url: str, body: Any, accepted: bool) -> None:
    post_order(build_order(order_id=1187))
    response = client.post(url, json=body, headers=admin_headers())
    assert (response.status_code < 400) is accepted, response.get_json()
    if not accepted:
        assert response.status_code == 400
        assert response.get_json()["error"]["message"].split(":")[0] in {*body, "order_ids[0]"}
    assert _document_allows(REQUEST_BODIES[url], body) is accepted


def test_an_order_id_written_as_a_decimal_is_read_exactly(client: FlaskClient,
                                                          post_order: Any) -> None:
    post_order(build_order(order_id=1187))
    # 2^53 + 1 has no float: read as a float it would be another order
    response = client.post("/admin/api/resync", headers=admin_headers(),
                           content_type="application/json",
                           data='{"shop": "shop", "order_ids": [9007199254740993.0, 1187.0]}')
    assert response.status_code == 202, response.get_json()
    assert [r["order_id"] for r in response.get_json()["refused"]] == [9007199254740993]
    assert response.get_json()["order_ids"] == [1187]


@pytest.mark.parametrize(("value", "accepted"), [
    ("2026-11-22T10:00:00.1234567z", True),  # RFC 3339: any case, any fraction (was a 400)
    ("2026-12-31T23:59:60Z", True),  # a leap second (was a 400)
    ("0000-01-01T00:00:00Z", True),  # year 0 (was a 400)
    ("9999-12-31T23:00:00-05:00", True),  # past what Python holds once in UTC
    ("0001-01-01T01:00:00+05:00", True),
    ("2026-11-22", True), ("2026-11-22T10:00", True),  # the documented shortcuts
    ("2026-13-01T00:00:00Z", False), ("2026-W47-1", False), ("soon", False), ("", False),
])
def test_date_time_filters_take_rfc_3339(client: FlaskClient, value: str,
                                         accepted: bool) -> None:
    for name in ("created_after", "updated_before"):
        response = client.get("/admin/api/orders", query_string={name: value},
                              headers=admin_headers())
        assert response.status_code == (200 if accepted else 400), response.get_json()
        if not accepted:
            assert response.get_json()["error"]["message"].startswith(f"{name}: not an ISO")


@pytest.mark.parametrize(("query", "status"), [
    ({"cursor": ""}, 200), ({"cursor": "12"}, 200), ({"cursor": "abc"}, 400),
    ({"status": ""}, 400), ({"shop": ""}, 200), ({"shop": "Shop!"}, 400),
])
def test_delivery_filters_are_as_documented(client: FlaskClient, query: dict[str, str],
                                            status: int) -> None:
    response = client.get("/admin/api/deliveries", query_string=query, headers=admin_headers())
    assert response.status_code == status, response.get_json()
