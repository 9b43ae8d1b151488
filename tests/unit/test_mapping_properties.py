"""Property tests: whatever WooCommerce order we generate, the e-Cont.md body adds up exactly."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.config.model import ShopSettings
from bridge.errors import MappingError
from bridge.mapping.build import map_order
from bridge.mapping.woocommerce import read_snapshot_header
from bridge.upstreams.econt.render import render_invoice
from bridge.upstreams.econt.settings import EcontSettings
from sandbox.woocommerce.samples import build_order
from tests.strategies import order_params, orders

SHOP = ShopSettings(
    id="shop",
    webhook_secret="x",
    upstream=EcontSettings(base_url="http://127.0.0.1:1", client_id="0" * 32, token="1" * 32),
)
FIXTURE_2 = Path(__file__).resolve().parents[1] / "fixtures" / "woo_order_example_2.json"
PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def places(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def walk(value: Any) -> list[Any]:
    """Every leaf of a JSON-like structure."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in walk(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in walk(v)]
    return [value]


@PROPERTY
@given(orders())
def test_body_adds_up_exactly_and_is_plain_json(order: dict[str, Any]) -> None:
    draft = map_order(order, SHOP)
    draft.check()
    body = render_invoice(draft)
    amount = body["order"]["amount"]
    items = body["items"]

    assert amount == order["total"]
    assert Decimal(amount) == Decimal(order["total"])
    assert sum((Decimal(i["line_total"]) for i in items.values()), Decimal(0)) == Decimal(amount)
    for item in items.values():
        assert Decimal(item["product_price"]) * item["product_qnt"] == Decimal(item["line_total"])
        assert isinstance(item["product_qnt"], int) and item["product_qnt"] >= 1
        assert isinstance(item["product_id"], int)
    decimals = places(order["total"])
    for text in [amount] + [i[k] for i in items.values() for k in ("product_price", "line_total")]:
        assert isinstance(text, str)
        assert places(text) == decimals, text
    assert list(items) == [str(n) for n in range(1, len(items) + 1)]
    # plain JSON: strings and integers only -- no floats, Decimals or datetimes
    leaves = walk(body)
    assert all(type(leaf) in (str, int) for leaf in leaves), {type(x) for x in leaves}
    assert json.loads(json.dumps(body)) == body


@PROPERTY
@given(orders())
def test_lines_keep_woocommerce_net_and_tax(order: dict[str, Any]) -> None:
    draft = map_order(order, SHOP)
    for line in draft.lines:
        assert line.total_net + line.total_tax == line.total_gross
    products = [line for line in draft.lines if line.kind == "product"]
    assert sum((line.total_net for line in products), Decimal(0)) == sum(
        (Decimal(i["total"]) for i in order["line_items"]), Decimal(0)
    )
    assert sum((line.total_tax for line in products), Decimal(0)) == sum(
        (Decimal(i["total_tax"]) for i in order["line_items"]), Decimal(0)
    )
    # a line is split at most in two, and both halves keep the source quantity
    for source in order["line_items"]:
        parts = [line for line in products if line.source_id == source["id"]]
        assert 1 <= len(parts) <= 2
        assert sum(line.quantity for line in parts) == source["quantity"]


@PROPERTY
@given(order_params())
def test_rounding_line_only_when_woocommerce_rounds_at_subtotal(params: dict[str, Any]) -> None:
    order = build_order(**params)
    draft = map_order(order, SHOP)
    rounding = [line for line in draft.lines if line.kind == "rounding"]
    assert len(rounding) <= 1
    per_line_rounding = not params["round_tax_at_subtotal"] or params["tax_rate"] is None
    if per_line_rounding and Decimal(order["total"]) > 0:
        # taxes rounded per line add up by construction; nothing to correct
        assert rounding == []
    if rounding:
        assert draft.lines[-1] is rounding[0]
        assert draft.notes
    adjustment = [line for line in draft.lines if line.kind == "adjustment"]
    if adjustment:  # only where WooCommerce capped a negative total at 0
        assert Decimal(order["total"]) == 0 and adjustment[0].total_gross > 0
        assert not rounding


@PROPERTY
@given(orders())
def test_wire_form_maps_the_same(order: dict[str, Any]) -> None:
    """What arrives over HTTP is JSON text: floats in ``price`` and all."""
    wire = json.loads(json.dumps(order))
    assert map_order(wire, SHOP) == map_order(order, SHOP)
    header = read_snapshot_header(wire)
    assert header.order_id == order["id"]
    assert header.number == order["number"]


@settings(max_examples=50, deadline=None)
@given(orders(), st.sampled_from(("Europe/Chisinau", "UTC", "Asia/Tokyo")))
def test_created_at_is_the_same_instant(order: dict[str, Any], zone: str) -> None:
    shop = replace(SHOP, mapping=replace(SHOP.mapping, timezone=zone))
    draft = map_order(order, shop)
    utc = datetime.fromisoformat(order["date_created_gmt"]).replace(tzinfo=UTC)
    assert draft.created_at == utc
    assert draft.created_at.tzinfo is not None and draft.created_at.utcoffset() is not None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["", "0", "-1", "12.345", "1e3", "NaN", "1" * 40, "2025-02-30T25:00:00"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5),
                                                                         children, max_size=3),
    max_leaves=5,
)
PATHS = [
    ("id",), ("number",), ("status",), ("currency",), ("total",), ("date_created_gmt",),
    ("customer_note",), ("billing",), ("billing", "email"), ("billing", "country"),
    ("billing", "company"), ("meta_data",), ("meta_data", 0), ("meta_data", 0, "value"),
    ("line_items",), ("line_items", 0), ("line_items", 0, "quantity"), ("line_items", 0, "total"),
    ("line_items", 0, "total_tax"), ("line_items", 0, "name"), ("line_items", 0, "sku"),
    ("line_items", 0, "product_id"), ("shipping_lines",), ("shipping_lines", 0, "total"),
    ("shipping_lines", 0, "method_title"), ("fee_lines", 0, "total"), ("fee_lines", 0, "name"),
]


def set_path(document: Any, path: tuple[Any, ...], value: Any) -> None:
    """``document[path[0]]...[path[-1]] = value`` where that path still exists."""
    for step in path[:-1]:
        if not has(document, step):
            return
        document = document[step]
    if isinstance(document, dict) or has(document, path[-1]):
        document[path[-1]] = value


def has(document: Any, step: Any) -> bool:
    if isinstance(document, dict):
        return step in document
    return isinstance(document, list) and isinstance(step, int) and step < len(document)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES), min_size=1, max_size=4))
def test_any_corruption_is_a_mapping_error_or_a_valid_draft(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    """Whatever a plugin or a broken shop sends, mapping either succeeds with a consistent
    draft or raises MappingError naming fields -- never another exception."""
    order = json.loads(FIXTURE_2.read_text(encoding="utf-8"))
    for path, value in changes:
        set_path(order, path, value)
    try:
        draft = map_order(order, SHOP)
    except MappingError as exc:
        assert exc.errors and all(reasons for reasons in exc.errors.values())
        return
    draft.check()
    json.dumps(render_invoice(draft))
