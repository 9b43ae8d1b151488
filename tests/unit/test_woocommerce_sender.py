"""Unit tests for the WooCommerce-faithful webhook sender (no sockets).

Reference: docs/woocommerce.md sections 1.2, 1.2.1, 1.3, 1.5, 2, 3, 7.2, 7.3.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from hypothesis import given
from hypothesis import strategies as st

from sandbox.woocommerce.sender import (
    DEFAULT_SALT,
    PreparedDelivery,
    WooCommerceWebhook,
    action_payload,
    deleted_payload,
    delivery_id,
    error_payload,
    php_float_repr,
    php_json_encode,
    send_with_test_client,
    split_topic,
)
from webhooks.signature import compute_signature, verify_signature

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = 1_743_588_936  # 2025-04-02T10:15:36Z, the second example order's date_modified_gmt
SECRET = "wc_test_secret"


def load_fixture(name: str) -> Any:
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def make_webhook(**overrides: Any) -> WooCommerceWebhook:
    options: dict[str, Any] = {
        "delivery_url": "https://bridge.example/webhooks/woocommerce",
        "secret": SECRET,
        "webhook_id": 27,
        "clock": lambda: NOW,
    }
    options.update(overrides)
    return WooCommerceWebhook(**options)


def raw_hmac(key: str, body: bytes) -> str:
    """The signature computed with the key exactly as given, no entity decoding."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# --------------------------------------------------------------------------------------------
# Section 7.3 signature vectors
# --------------------------------------------------------------------------------------------

DELETED_BODY = b'{"id":1203}'


def test_vector_1_plain_secret() -> None:
    prepared = make_webhook().build("order.deleted", deleted_payload(1203))
    assert prepared.body == DELETED_BODY
    assert prepared.header("X-WC-Webhook-Signature") == (
        "/9GXyxGVZtnt3UPe6Ul2BOEeueQSkjWeeX+E/lErYOw="
    )


def test_vector_2_stored_amp_secret_is_decoded_before_signing() -> None:
    prepared = make_webhook(secret="s3cr3t&amp;key").build("order.deleted", {"id": 1203})
    assert prepared.header("X-WC-Webhook-Signature") == (
        "9LV0G0wHYXT6jZ5XellAQFxKHyO9aXvRjKqxV1RqYKs="
    )
    # The same as signing with the decoded secret typed by the shop owner.
    assert raw_hmac("s3cr3t&key", prepared.body) == "9LV0G0wHYXT6jZ5XellAQFxKHyO9aXvRjKqxV1RqYKs="


def test_vector_3_secret_taken_literally_is_the_mistake() -> None:
    wrong = "zCZDDHqNDgqGWh2sVJ64MjSWfztkqyx6w9yOmYltKnY="
    assert raw_hmac("s3cr3t&amp;key", DELETED_BODY) == wrong
    prepared = make_webhook(secret="s3cr3t&amp;key").build("order.deleted", {"id": 1203})
    assert prepared.header("X-WC-Webhook-Signature") != wrong
    # Only a shop whose stored secret decodes to "s3cr3t&amp;key" signs like that.
    doubled = make_webhook(secret="s3cr3t&amp;amp;key").build("order.deleted", {"id": 1203})
    assert doubled.header("X-WC-Webhook-Signature") == wrong


def test_vector_4_example_order_two() -> None:
    body = php_json_encode(load_fixture("woo_order_example_2.json"))
    assert len(body) == 4783
    assert compute_signature(body, SECRET) == "WQIG1ddVsBV3Sflf/d5IkPJZe61b1Yzn52SbWVxzirw="
    prepared = make_webhook().build("order.updated", load_fixture("woo_order_example_2.json"))
    assert prepared.body == body
    assert prepared.header("Content-Length") == "4783"
    assert prepared.header("X-WC-Webhook-Signature") == (
        "WQIG1ddVsBV3Sflf/d5IkPJZe61b1Yzn52SbWVxzirw="
    )


# --------------------------------------------------------------------------------------------
# php_json_encode (section 1.2.1)
# --------------------------------------------------------------------------------------------


def test_slashes_are_escaped() -> None:
    assert php_json_encode({"url": "https://shop.example/a/b"}) == (
        b'{"url":"https:\\/\\/shop.example\\/a\\/b"}'
    )


def test_non_ascii_is_escaped_with_lowercase_hex() -> None:
    assert php_json_encode("Chișinău") == b'"Chi\\u0219in\\u0103u"'
    assert php_json_encode("Bălți") == b'"B\\u0103l\\u021bi"'
    assert php_json_encode("10 \u20ac \u00d7 2") == b'"10 \\u20ac \\u00d7 2"'


def test_characters_beyond_the_bmp_become_surrogate_pairs() -> None:
    assert php_json_encode("ok 😀") == b'"ok \\ud83d\\ude00"'


def test_control_characters_and_quotes() -> None:
    assert php_json_encode('a"b\\c\n\r\t\b\f\x01\x1f') == (
        b'"a\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f"'
    )


def test_html_sensitive_characters_and_del_are_not_escaped() -> None:
    # Flags 0: no JSON_HEX_TAG/AMP/APOS/QUOT; PHP's escape table does not include DEL.
    assert php_json_encode("<b>&'\x7f") == b'"<b>&\'\x7f"'


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1499.0, "1499"),
        (427.5, "427.5"),
        (0.1, "0.1"),
        (20.0, "20"),
        (0.0, "0"),
        (-0.0, "-0"),
        (-12.25, "-12.25"),
        (0.30000000000000004, "0.30000000000000004"),
        (0.0001, "0.0001"),
        (0.00001, "1.0e-5"),
        (-2.5e-7, "-2.5e-7"),
        (1e15, "1000000000000000"),
        (1e16, "10000000000000000"),
        (1e17, "1.0e+17"),
        (1.5e300, "1.5e+300"),
        (123456789012345678.0, "1.2345678901234568e+17"),
    ],
)
def test_float_formatting_matches_php(number: float, expected: str) -> None:
    assert php_float_repr(number) == expected
    assert php_json_encode(number) == expected.encode()


def test_ints_stay_ints_and_huge_ints_become_php_floats() -> None:
    assert php_json_encode([0, -5, 2**63 - 1]) == b"[0,-5,9223372036854775807]"
    assert php_json_encode(2**64) == b"1.8446744073709552e+19"


def test_decimals_print_as_the_php_float() -> None:
    assert php_json_encode([Decimal("1499.00"), Decimal("427.50"), Decimal("0.1")]) == (
        b"[1499,427.5,0.1]"
    )


def test_literals_empty_containers_and_no_spaces() -> None:
    value = {"a": None, "b": True, "c": False, "d": [], "e": [1, [2, {"f": "g"}]], "h": ""}
    assert php_json_encode(value) == (
        b'{"a":null,"b":true,"c":false,"d":[],"e":[1,[2,{"f":"g"}]],"h":""}'
    )


def test_mappings_are_php_arrays() -> None:
    # After json_decode(..., true) an empty object and a 0..n-1 keyed object are PHP lists.
    assert php_json_encode({}) == b"[]"
    assert php_json_encode({"0": "a", "1": "b"}) == b'["a","b"]'
    assert php_json_encode({1: "a"}) == b'{"1":"a"}'
    assert php_json_encode({"1": "a", "0": "b"}) == b'{"1":"a","0":"b"}'
    assert php_json_encode({"01": "a"}) == b'{"01":"a"}'


def test_unencodable_values_are_refused() -> None:
    with pytest.raises(ValueError):
        php_json_encode(math.nan)
    with pytest.raises(ValueError):
        php_json_encode({"x": math.inf})
    with pytest.raises(ValueError):
        php_json_encode("broken \ud800 surrogate")
    with pytest.raises(TypeError):
        php_json_encode({"when": datetime(2025, 1, 1, tzinfo=UTC)})


@pytest.mark.parametrize("name", ["woo_order_example_1.json", "woo_order_example_2.json"])
def test_fixture_bytes_match_the_documented_python_equivalent(name: str) -> None:
    # Section 1.2.1's recipe, valid for these fixtures (no integral floats, no empty objects).
    order = load_fixture(name)
    recipe = json.dumps(order, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")
    body = php_json_encode(order)
    assert body == recipe.encode("ascii")
    assert b"\n" not in body and b'": ' not in body
    assert json.loads(body) == order


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.from_regex(r"[a-z_]{1,8}", fullmatch=True), children, min_size=1, max_size=4
        )
    ),
    max_leaves=20,
)


def same_value(parsed: Any, original: Any) -> bool:
    """Equality where a float may come back as an int (PHP drops ``.0``)."""
    if isinstance(original, float):
        return isinstance(parsed, int | float) and float(parsed) == original
    if isinstance(original, list):
        return len(parsed) == len(original) and all(map(same_value, parsed, original))
    if isinstance(original, dict):
        return parsed.keys() == original.keys() and all(
            same_value(parsed[key], item) for key, item in original.items()
        )
    return type(parsed) is type(original) and parsed == original


@given(json_values)
def test_encoding_round_trips_through_a_json_parser(value: Any) -> None:
    body = php_json_encode(value)
    assert body.isascii()
    assert same_value(json.loads(body), value)


# --------------------------------------------------------------------------------------------
# Delivery-ID, topics, payload helpers
# --------------------------------------------------------------------------------------------


def test_delivery_id_is_wp_hash_of_id_and_seconds() -> None:
    expected = hmac.new(b"salt", b"271743588936", hashlib.md5).hexdigest()
    assert delivery_id(27, "salt", NOW) == expected
    assert len(expected) == 32 and expected == expected.lower()
    assert delivery_id(27, "salt", NOW) == delivery_id(27, "salt", NOW)
    assert delivery_id(27, "salt", NOW + 1) != delivery_id(27, "salt", NOW)
    assert delivery_id(28, "salt", NOW) != delivery_id(27, "salt", NOW)
    assert delivery_id(27, "other", NOW) != delivery_id(27, "salt", NOW)


def test_two_deliveries_in_the_same_second_share_a_delivery_id() -> None:
    webhook = make_webhook(clock=lambda: NOW + 0.1)
    first = webhook.build("order.created", {"id": 1})
    second = webhook.build("order.updated", {"id": 1}, now=NOW + 0.9)
    later = webhook.build("order.updated", {"id": 1}, now=NOW + 1)
    assert first.delivery_id == second.delivery_id == delivery_id(27, DEFAULT_SALT, NOW)
    assert first.header("X-WC-Webhook-Delivery-ID") == first.delivery_id
    assert later.delivery_id != first.delivery_id


def test_now_accepts_aware_datetimes_only() -> None:
    webhook = make_webhook()
    moment = datetime.fromtimestamp(NOW, UTC)
    assert webhook.build("order.updated", {"id": 1}, now=moment).delivery_id == (
        delivery_id(27, DEFAULT_SALT, NOW)
    )
    with pytest.raises(ValueError):
        webhook.build("order.updated", {"id": 1}, now=datetime(2025, 4, 2, 10, 15, 36))


@pytest.mark.parametrize(
    ("topic", "resource", "event"),
    [
        ("order.created", "order", "created"),
        ("order.updated", "order", "updated"),
        ("order.deleted", "order", "deleted"),
        ("order.restored", "order", "restored"),
        (
            "action.woocommerce_order_status_completed",
            "action",
            "woocommerce_order_status_completed",
        ),
        ("action.wc_custom_hook", "action", "wc_custom_hook"),
    ],
)
def test_topic_split_into_resource_and_event(topic: str, resource: str, event: str) -> None:
    assert split_topic(topic) == (resource, event)
    prepared = make_webhook().build(topic, {"id": 1})
    assert prepared.header("X-WC-Webhook-Topic") == topic
    assert prepared.header("X-WC-Webhook-Resource") == resource
    assert prepared.header("X-WC-Webhook-Event") == event


@pytest.mark.parametrize("topic", ["order", "", ".updated", "order."])
def test_malformed_topics_are_refused(topic: str) -> None:
    with pytest.raises(ValueError):
        split_topic(topic)


def test_payload_helpers() -> None:
    assert deleted_payload(1203) == {"id": 1203}
    assert php_json_encode(action_payload("woocommerce_order_status_completed", 1187)) == (
        b'{"action":"woocommerce_order_status_completed","arg":1187}'
    )
    assert php_json_encode(
        error_payload("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", 401)
    ) == (
        b'{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot view this'
        b' resource.","data":{"status":401}}'
    )
    assert error_payload("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404) == {
        "code": "woocommerce_rest_shop_order_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }


# --------------------------------------------------------------------------------------------
# build() and build_ping()
# --------------------------------------------------------------------------------------------


def test_build_headers_in_woocommerce_order() -> None:
    prepared = make_webhook().build("order.deleted", {"id": 1203})
    assert prepared.method == "POST"
    assert prepared.url == "https://bridge.example/webhooks/woocommerce"
    assert prepared.timeout == 60.0
    assert prepared.headers == [
        ("User-Agent", "WooCommerce/9.9.5 Hookshot (WordPress/6.8.1)"),
        ("Content-Type", "application/json"),
        ("X-WC-Webhook-Source", "https://shop.example/"),
        ("X-WC-Webhook-Topic", "order.deleted"),
        ("X-WC-Webhook-Resource", "order"),
        ("X-WC-Webhook-Event", "deleted"),
        ("X-WC-Webhook-Signature", "/9GXyxGVZtnt3UPe6Ul2BOEeueQSkjWeeX+E/lErYOw="),
        ("X-WC-Webhook-ID", "27"),
        ("X-WC-Webhook-Delivery-ID", delivery_id(27, DEFAULT_SALT, NOW)),
        ("Accept", "*/*"),
        ("Accept-Encoding", "deflate, gzip"),
        ("Connection", "close"),
        ("Content-Length", "11"),
    ]
    assert prepared.host == "bridge.example"
    assert prepared.target == "/webhooks/woocommerce"


def test_versions_and_source_are_configurable() -> None:
    webhook = make_webhook(wc_version="11.3.0-dev", wp_version="7.1", source="https://b.example/")
    prepared = webhook.build("order.updated", {"id": 1})
    assert prepared.header("user-agent") == "WooCommerce/11.3.0-dev Hookshot (WordPress/7.1)"
    assert prepared.header("x-wc-webhook-source") == "https://b.example/"


def test_tampered_body_and_wrong_signature() -> None:
    webhook = make_webhook()
    tampered = webhook.build("order.updated", {"id": 1}, body=b'{"id":2}')
    assert tampered.body == b'{"id":2}'
    assert tampered.header("X-WC-Webhook-Signature") == compute_signature(b'{"id":2}', SECRET)
    assert tampered.header("Content-Length") == "8"
    forged = webhook.build("order.updated", {"id": 1}, signature="bm9wZQ==")
    assert forged.body == b'{"id":1}'
    assert forged.header("X-WC-Webhook-Signature") == "bm9wZQ=="
    assert not verify_signature(forged.body, "bm9wZQ==", SECRET)


def test_plugin_headers_sit_after_content_type_and_cannot_shadow_wc_headers() -> None:
    webhook = make_webhook(
        extra_headers=[("Authorization", "Bearer t"), ("X-WC-Webhook-ID", "999")]
    )
    names = [name for name, _ in webhook.build("order.updated", {"id": 1}).headers]
    prepared = webhook.build("order.updated", {"id": 1})
    assert names[:5] == [
        "User-Agent",
        "Content-Type",
        "Authorization",
        "X-WC-Webhook-ID",
        "X-WC-Webhook-Source",
    ]
    assert names.count("X-WC-Webhook-ID") == 1
    assert prepared.header("X-WC-Webhook-ID") == "27"


def test_expect_continue_only_for_bodies_over_1_kib() -> None:
    webhook = make_webhook(expect_continue=True)
    small = webhook.build("order.deleted", {"id": 1})
    large = webhook.build("order.updated", load_fixture("woo_order_example_2.json"))
    assert small.header("Expect") is None
    assert large.headers[-1] == ("Expect", "100-continue")
    assert make_webhook().build("order.updated", {"x": "y" * 2000}).header("Expect") is None


def test_ping_request() -> None:
    prepared = make_webhook().build_ping()
    assert prepared.method == "POST"
    assert prepared.body == b"webhook_id=27"
    assert prepared.timeout == 5.0
    assert prepared.headers == [
        ("User-Agent", "WooCommerce/9.9.5 Hookshot (WordPress/6.8.1)"),
        ("Accept", "*/*"),
        ("Accept-Encoding", "deflate, gzip"),
        ("Connection", "close"),
        ("Content-Length", "13"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ]
    assert not any(name.lower().startswith("x-wc-") for name, _ in prepared.headers)


def test_prepared_delivery_host_and_target() -> None:
    def prepared(url: str) -> PreparedDelivery:
        return PreparedDelivery("POST", url, [], b"")

    assert prepared("http://127.0.0.1:8080/h?a=1&b=2").host == "127.0.0.1:8080"
    assert prepared("http://127.0.0.1:8080/h?a=1&b=2").target == "/h?a=1&b=2"
    assert prepared("https://shop.example:443").host == "shop.example"
    assert prepared("https://shop.example:443").target == "/"
    assert prepared("http://[::1]:81/x").host == "[::1]:81"


# --------------------------------------------------------------------------------------------
# Failure bookkeeping without a socket: WordPress refuses a non-HTTP URL with a WP_Error.
# --------------------------------------------------------------------------------------------


def test_transport_errors_count_and_the_seventh_failure_disables() -> None:
    webhook = make_webhook(delivery_url="ftp://shop.example/hook")
    for expected_count in range(1, 7):
        result = webhook.deliver("order.updated", {"id": 1})
        assert (result.status_code, result.ok, result.skipped) == (0, False, False)
        assert result.error and "valid URL" in result.error
        assert (webhook.failure_count, webhook.status) == (expected_count, "active")
    webhook.deliver("order.updated", {"id": 1})
    assert (webhook.failure_count, webhook.status) == (6, "disabled")
    skipped = webhook.deliver("order.updated", {"id": 1})
    assert skipped.skipped and not skipped.ok and skipped.request is None


def test_paused_webhook_drops_events_and_max_failures_is_configurable() -> None:
    webhook = make_webhook(delivery_url="ftp://shop.example/hook", max_failures=0)
    webhook.pause()
    assert webhook.deliver("order.updated", {"id": 1}).skipped
    assert webhook.failure_count == 0
    # Like an Action Scheduler job queued before the pause: sent, and counted.
    forced = webhook.deliver("order.updated", {"id": 1}, force=True)
    assert not forced.skipped and forced.request is not None
    assert (webhook.failure_count, webhook.status) == (1, "paused")
    # Re-activating keeps the counter, so with max_failures=0 one more failure disables.
    webhook.activate()
    webhook.deliver("order.updated", {"id": 1})
    assert (webhook.failure_count, webhook.status) == (1, "disabled")


# --------------------------------------------------------------------------------------------
# send_with_test_client: the same bytes through a Flask test client
# --------------------------------------------------------------------------------------------


def make_receiver() -> Flask:
    app = Flask("sender-test-receiver")

    @app.post("/webhooks/woocommerce")
    def receive() -> tuple[dict[str, Any], int]:
        body = request.get_data()
        signed = verify_signature(body, request.headers.get("X-WC-Webhook-Signature"), SECRET)
        headers = {name.lower(): value for name, value in request.headers.items()}
        seen = {"body": body.decode("ascii"), "headers": headers}
        return seen, (200 if signed else 401)

    return app


def test_send_with_test_client_delivers_the_same_bytes_and_headers() -> None:
    client = make_receiver().test_client()
    prepared = make_webhook().build("order.updated", load_fixture("woo_order_example_1.json"))
    response = send_with_test_client(client, "/webhooks/woocommerce", prepared)
    assert response.status_code == 200
    seen = response.get_json()
    assert seen["body"].encode("ascii") == prepared.body
    for name, value in prepared.headers:
        assert seen["headers"][name.lower()] == value


def test_send_with_test_client_tampered_body_is_rejected() -> None:
    client = make_receiver().test_client()
    webhook = make_webhook()
    good = webhook.build("order.updated", {"id": 1})
    tampered = webhook.build(
        "order.updated",
        {"id": 1},
        body=b'{"id":2}',
        signature=good.header("X-WC-Webhook-Signature"),
    )
    assert send_with_test_client(client, "/webhooks/woocommerce", good).status_code == 200
    assert send_with_test_client(client, "/webhooks/woocommerce", tampered).status_code == 401
