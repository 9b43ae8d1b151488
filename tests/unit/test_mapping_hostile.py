"""Hostile and odd input to the mapping stage: text is sanitised before any upstream sees it,
numbers are ASCII digits within range, and every rejection stays short."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.config.model import ShopSettings
from bridge.errors import MAX_ERRORS_TEXT, MappingError, format_field_errors
from bridge.mapping.build import map_order
from bridge.mapping.woocommerce import (
    MAX_ORDER_NUMBER,
    MAX_STATUS,
    header_problems,
    read_snapshot_header,
)
from bridge.storage.models import OrderSync
from bridge.upstreams.econt.render import render_invoice
from bridge.upstreams.econt.settings import EcontSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHOP = ShopSettings(
    id="shop", webhook_secret="x",
    upstream=EcontSettings(base_url="http://127.0.0.1:1", client_id="0" * 32, token="1" * 32),
)
ARABIC_1187 = "\u0661\u0661\u0668\u0667"  # "١١٨٧": digits to Python's int() and Decimal()


def fixture(n: int) -> dict[str, Any]:
    return json.loads((FIXTURES / f"woo_order_example_{n}.json").read_text(encoding="utf-8"))


def errors_of(order: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(MappingError) as info:
        map_order(order, SHOP)
    return info.value.errors


def test_control_characters_and_lone_surrogates_never_reach_the_upstream() -> None:
    order = fixture(1)
    order["line_items"][0]["name"] = "Ceai\x00 verde\ud800\tSencha\r\n100 g\x1b"
    order["billing"]["first_name"] = "Elena\x00\udfff"
    order["billing"]["address_1"] = "bd. Dacia 27,\nap. 41"
    order["customer_note"] = "Sunați la interfon\r\netaj 3\x00\ud83d"
    draft = map_order(order, SHOP)
    assert draft.lines[0].name == "Ceai verde Sencha 100 g"  # a line has one line
    assert draft.buyer.first_name == "Elena"
    assert draft.buyer.address_1 == "bd. Dacia 27, ap. 41"
    assert draft.customer_note == "Sunați la interfon\netaj 3"  # the buyer's lines are kept
    body = json.dumps(render_invoice(draft), ensure_ascii=False)
    body.encode("utf-8")  # a lone surrogate would make this raise
    assert "\x00" not in body and "\x1b" not in body


def test_an_encoded_line_break_in_a_name_is_sanitised_after_decoding() -> None:
    order = fixture(1)
    order["line_items"][0]["name"] = "Ceai&#10;verde &#0;Sencha"
    assert map_order(order, SHOP).lines[0].name == "Ceai verde \ufffdSencha"


def test_amounts_take_ascii_digits_only() -> None:
    order = fixture(1)
    order["line_items"][0]["total"] = f"{ARABIC_1187}.00"
    errors = errors_of(order)
    assert list(errors) == ["line_items[0].total"]
    assert "not an amount" in errors["line_items[0].total"][0]


def test_fiscal_codes_take_ascii_digits_only() -> None:
    order = fixture(2)
    order["meta_data"][0]["value"] = "\u0661" * 13
    assert "13 digits" in errors_of(order)["meta_data[_billing_fiscal_code]"][0]


@pytest.mark.parametrize("value", [2**63, 2**63 + 5, 10**30, 0, -1, "1187", ARABIC_1187, 1187.0,
                                   True])
def test_order_ids_are_json_integers_from_1_to_2_63_minus_1(value: Any) -> None:
    with pytest.raises(MappingError) as info:
        read_snapshot_header({"id": value})
    assert list(info.value.errors) == ["id"]
    assert len(str(info.value)) < 200


def test_the_largest_order_id_is_read() -> None:
    assert read_snapshot_header({"id": 2**63 - 1}).order_id == 2**63 - 1


def test_a_huge_integer_is_described_not_printed() -> None:
    with pytest.raises(MappingError) as info:
        read_snapshot_header({"id": 10**4000})
    assert "about 4000 digits" in str(info.value) and len(str(info.value)) < 200


def test_header_fields_that_do_not_fit_a_sync_row_are_named() -> None:
    header = read_snapshot_header({"id": 7, "number": "N" * 65, "status": "s" * 33})
    problems = header_problems(header)
    assert sorted(problems) == ["number", "status"]
    assert "longer than 64 characters (65)" in problems["number"][0]
    assert header_problems(read_snapshot_header(
        {"id": 7, "number": "N" * 64, "status": "wc-" + "s" * 17})) == {}


def test_header_number_and_status_are_sanitised() -> None:
    header = read_snapshot_header({"id": 7, "number": "A-\x001187\n", "status": "proc\ud800essing"})
    assert (header.number, header.status) == ("A-1187", "processing")


def test_the_limits_are_the_sync_row_columns() -> None:
    columns = OrderSync.__table__.c
    assert columns.order_number.type.length == MAX_ORDER_NUMBER
    assert columns.order_status.type.length == MAX_STATUS


def test_an_over_long_number_or_status_cannot_be_mapped() -> None:
    order = fixture(1)
    order["number"] = "N" * 65
    order["status"] = "s" * 33
    assert sorted(errors_of(order)) == ["number", "status"]


def test_a_rejection_with_thousands_of_errors_stays_short() -> None:
    order = fixture(1)
    order["line_items"] = [{"name": "", "quantity": 0, "total": "x" * 100_000}] * 5000
    message = str(MappingError(errors_of(order)))
    assert len(message) <= MAX_ERRORS_TEXT
    assert message.endswith("more fields")


def test_field_errors_are_listed_in_full_when_few() -> None:
    assert format_field_errors({"billing.email": ["required"], "currency": ["bad", "worse"]}) \
        == "billing.email: required; currency: bad, worse"


def test_field_errors_cap_each_message_and_escape_what_cannot_be_stored() -> None:
    text = format_field_errors({"name": ["a\x00b\ud800" + "x" * 1000]})
    assert text.startswith("name: a\\x00b\\ud800x") and len(text) < 250
