"""Example-based tests of the mapping stage: WooCommerce order -> InvoiceDraft -> e-Cont.md body."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.config.model import MappingSettings, ShopSettings
from bridge.errors import MappingError
from bridge.mapping import fiscal, money
from bridge.mapping.build import map_order
from bridge.mapping.woocommerce import read_snapshot_header
from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.econt.render import render_invoice
from bridge.upstreams.econt.settings import EcontSettings
from sandbox.woocommerce.samples import Billing, Fee, Item, Shipping, build_order, sample_orders

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHOP = ShopSettings(
    id="shop",
    webhook_secret="x",
    upstream=EcontSettings(base_url="http://127.0.0.1:1", client_id="0" * 32, token="1" * 32),
)


def map_econt(order: Any, shop: ShopSettings = SHOP) -> Any:
    """Mapping for an e-Cont.md shop: its rules (an e-mail, whole quantities) apply."""
    return map_order(order, shop, EcontUpstream.rules)


def fixture(n: int) -> dict[str, Any]:
    return json.loads((FIXTURES / f"woo_order_example_{n}.json").read_text(encoding="utf-8"))


def errors_of(order: dict[str, Any], shop: ShopSettings = SHOP) -> dict[str, list[str]]:
    with pytest.raises(MappingError) as info:
        map_econt(order, shop)
    return info.value.errors


def shop_with(**mapping: Any) -> ShopSettings:
    return replace(SHOP, mapping=replace(MappingSettings(), **mapping))


# --- the two realistic fixtures ---------------------------------------------------------


def test_example_1_b2c_maps() -> None:
    draft = map_econt(fixture(1), SHOP)
    draft.check()
    assert (draft.shop, draft.order_id, draft.order_number) == ("shop", 1187, "1187")
    assert (draft.status, draft.currency, draft.decimals) == ("processing", "MDL", 2)
    assert draft.total == Decimal("1005.00")
    assert [(str(key), line.kind, line.quantity, line.unit_price_gross, line.total_gross)
            for key, line in enumerate(draft.lines, start=1)] == [
        ("1", "product", 3, Decimal("155.00"), Decimal("465.00")),
        ("2", "product", 2, Decimal("240.00"), Decimal("480.00")),
        ("3", "shipping", 1, Decimal("60.00"), Decimal("60.00")),
    ]
    assert draft.buyer.email == "elena.rusu@mail.example"
    assert (draft.buyer.idno, draft.buyer.idnp, draft.buyer.company) == ("", "", "")
    assert draft.customer_note.startswith("Vă rog")
    assert draft.notes == ()


def test_example_2_b2b_maps() -> None:
    draft = map_econt(fixture(2), SHOP)
    draft.check()
    assert draft.total == Decimal("8377.20")
    assert draft.buyer.idno == "1012600034562"
    assert draft.buyer.company == "Agroprim Nord SRL"
    assert draft.status == "on-hold"
    assert [line.kind for line in draft.lines] == ["product", "product", "shipping", "fee"]
    paper, toner, shipping, fee = draft.lines
    assert (paper.quantity, paper.unit_price_gross, paper.total_gross) == (10, Decimal("513.00"),
                                                               Decimal("5130.00"))
    assert (toner.quantity, toner.unit_price_gross, toner.total_gross) == (4, Decimal("706.80"),
                                                               Decimal("2827.20"))
    assert (shipping.name, shipping.total_gross) == ("Livrare cu transport propriu",
                                                     Decimal("240.00"))
    assert (fee.name, fee.total_gross) == ("Taxă ambalare pe paletă", Decimal("180.00"))
    for line in draft.lines:
        assert line.total_net + line.total_tax == line.total_gross
    assert [line.total_tax for line in draft.lines] == [
        Decimal("855.00"), Decimal("471.20"), Decimal("40.00"), Decimal("30.00")]
    assert sum((line.total_gross for line in draft.lines), Decimal(0)) == Decimal("8377.20")
    assert (paper.sku, paper.product_id, paper.source_id) == ("HA4-80-5T", 701, 2388)


def test_example_2_renders_the_econt_body() -> None:
    body = render_invoice(map_econt(fixture(2), SHOP))
    assert body["order"] == {
        "id": 1203,
        "order_number": "1203",
        "amount": "8377.20",
        "currency": "MDL",
        "date_created": "2025-04-02 10:15:33",
        "status": "on-hold",
        "customer_note": "Vă rugăm să atașați factura fiscală la livrare.",
        "billing": {
            "company": "Agroprim Nord SRL", "idno": "1012600034562", "idnp": "",
            "first_name": "Ion", "last_name": "Ciobanu",
            "address_1": "str. Independenței 12, of. 4", "address_2": "",
            "city": "Bălți", "postcode": "MD-3100", "country": "MD",
            "email": "achizitii@agroprim-nord.example", "phone": "+37323112233",
        },
    }
    assert body["items"] == {
        "1": {"product_id": 701, "product_sku": "HA4-80-5T",
              "product_name": "Hârtie copiator A4 80 g/m², cutie 5 topuri",
              "product_price": "513.00", "product_qnt": 10, "product_unit": "pcs",
              "line_total": "5130.00"},
        "2": {"product_id": 733, "product_sku": "TON-HP85A-C",
              "product_name": "Cartuș toner compatibil HP 85A",
              "product_price": "706.80", "product_qnt": 4, "product_unit": "pcs",
              "line_total": "2827.20"},
        "3": {"product_id": 0, "product_sku": "", "product_name": "Livrare cu transport propriu",
              "product_price": "240.00", "product_qnt": 1, "product_unit": "pcs",
              "line_total": "240.00"},
        "4": {"product_id": 0, "product_sku": "", "product_name": "Taxă ambalare pe paletă",
              "product_price": "180.00", "product_qnt": 1, "product_unit": "pcs",
              "line_total": "180.00"},
    }
    assert json.loads(json.dumps(body)) == body


def test_builder_reproduces_example_2_arithmetic() -> None:
    """The sample builder computes WooCommerce's numbers for the B2B fixture exactly."""
    built = sample_orders()[1]
    original = fixture(2)
    for key in ("discount_total", "discount_tax", "shipping_total", "shipping_tax", "cart_tax",
                "total", "total_tax"):
        assert built[key] == original[key], key
    for mine, theirs in zip(built["line_items"], original["line_items"], strict=True):
        for key in ("subtotal", "subtotal_tax", "total", "total_tax", "taxes", "price"):
            assert mine[key] == theirs[key], key
    assert built["coupon_lines"][0]["discount"] == original["coupon_lines"][0]["discount"]
    assert built["coupon_lines"][0]["discount_tax"] == original["coupon_lines"][0]["discount_tax"]


def test_all_sample_orders_map() -> None:
    for order in sample_orders():
        draft = map_econt(order, SHOP)
        draft.check()
        assert render_invoice(draft)["order"]["amount"] == order["total"]


# --- dates -------------------------------------------------------------------------------


def test_date_created_is_converted_to_the_shop_time_zone() -> None:
    # April: Chisinau is on summer time, UTC+3
    assert render_invoice(map_econt(fixture(2), SHOP))["order"]["date_created"] == (
        "2025-04-02 10:15:33")
    # March 14th: still winter time, UTC+2
    assert render_invoice(map_econt(fixture(1), SHOP))["order"]["date_created"] == (
        "2025-03-14 18:42:07")
    draft = map_econt(fixture(2), shop_with(timezone="UTC"))
    assert draft.created_at == datetime(2025, 4, 2, 7, 15, 33, tzinfo=UTC)


def test_missing_date_created_gmt_is_an_error() -> None:
    order = fixture(1)
    order["date_created_gmt"] = None
    assert "date_created_gmt" in errors_of(order)
    del order["date_created_gmt"]
    assert "date_created_gmt" in errors_of(order)
    order["date_created_gmt"] = "14/03/2025"
    assert "date_created_gmt" in errors_of(order)


# --- field errors ------------------------------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "   "])
def test_missing_email_names_billing_email(email: str | None) -> None:
    order = fixture(1)
    order["billing"]["email"] = email
    errors = errors_of(order)
    assert list(errors) == ["billing.email"]
    assert "required" in errors["billing.email"][0]


def test_absent_email_and_absent_billing_name_billing_email() -> None:
    order = fixture(1)
    del order["billing"]["email"]
    assert "billing.email" in errors_of(order)
    del order["billing"]
    assert "billing.email" in errors_of(order)


@pytest.mark.parametrize("email", ["elena.rusu", "elena@", "@mail.example", "a b@mail.example",
                                   "elena@mail", "elena@@mail.example"])
def test_implausible_email_is_an_error(email: str) -> None:
    order = fixture(1)
    order["billing"]["email"] = email
    assert "not a valid e-mail" in errors_of(order)["billing.email"][0]


def test_bad_currency_names_currency() -> None:
    order = fixture(1)
    order["currency"] = "XXX1"
    errors = errors_of(order)
    assert list(errors) == ["currency"]
    assert "ISO 4217" in errors["currency"][0]
    order["currency"] = "ABC"
    assert "currency" in errors_of(order)


def test_lower_case_currency_and_country_are_normalised() -> None:
    order = fixture(1)
    order["currency"] = "mdl"
    order["billing"]["country"] = "md"
    draft = map_econt(order, SHOP)
    assert (draft.currency, draft.buyer.country) == ("MDL", "MD")


@pytest.mark.parametrize("country", ["ZZ", "Moldova", "MDA", "1"])
def test_bad_country_names_billing_country(country: str) -> None:
    order = fixture(1)
    order["billing"]["country"] = country
    assert list(errors_of(order)) == ["billing.country"]


def test_empty_country_is_allowed() -> None:
    order = fixture(1)
    order["billing"]["country"] = ""
    assert map_econt(order, SHOP).buyer.country == ""


def test_twelve_digit_idno_names_the_meta_key() -> None:
    order = fixture(2)
    order["meta_data"][0]["value"] = "101260003456"
    errors = errors_of(order)
    assert list(errors) == ["meta_data[_billing_fiscal_code]"]
    assert "13 digits" in errors["meta_data[_billing_fiscal_code]"][0]


@pytest.mark.parametrize("value", ["1012600034562X", "10126000345628", ["1012600034562"], True])
def test_invalid_idno_values(value: Any) -> None:
    order = fixture(2)
    order["meta_data"][0]["value"] = value
    assert "meta_data[_billing_fiscal_code]" in errors_of(order)


def test_quantity_zero_names_the_line() -> None:
    order = fixture(2)
    order["line_items"][1]["quantity"] = 0
    errors = errors_of(order)
    assert list(errors) == ["line_items[1].quantity"]
    assert "more than 0" in errors["line_items[1].quantity"][0]


@pytest.mark.parametrize("quantity", [1.5, "two", None])
def test_non_integer_quantity_names_the_line(quantity: Any) -> None:
    order = fixture(1)
    order["line_items"][0]["quantity"] = quantity
    assert list(errors_of(order)) == ["line_items[0].quantity"]


@pytest.mark.parametrize("total", ["abc", "", "1,005.00", "1e3", None, 1005.0, "-5.00"])
def test_bad_total_names_total(total: Any) -> None:
    order = fixture(1)
    order["total"] = total
    assert "total" in errors_of(order)


def test_missing_id_names_id() -> None:
    order = fixture(1)
    del order["id"]
    assert list(errors_of(order)) == ["id"]
    for bad in (0, -3, "1187", 1187.0, True, None):
        order["id"] = bad
        assert list(errors_of(order)) == ["id"], bad


def test_all_errors_are_reported_at_once() -> None:
    order = fixture(2)
    order["billing"]["email"] = ""
    order["billing"]["country"] = "XX"
    order["currency"] = "XXX1"
    order["line_items"][1]["quantity"] = 0
    order["line_items"][0]["total"] = "4275.005"
    order["fee_lines"][0]["total"] = "lots"
    order["meta_data"][0]["value"] = "123"
    with pytest.raises(MappingError) as info:
        map_econt(order, SHOP)
    assert set(info.value.errors) == {
        "billing.email", "billing.country", "currency", "line_items[1].quantity",
        "line_items[0].total", "fee_lines[0].total", "meta_data[_billing_fiscal_code]",
    }
    message = str(info.value)
    for field in info.value.errors:
        assert field in message


def test_amount_with_more_decimals_than_the_total_is_an_error() -> None:
    order = fixture(2)
    order["line_items"][0]["total_tax"] = "855.001"
    errors = errors_of(order)
    assert list(errors) == ["line_items[0].total_tax"]
    assert "more than 2 decimal places" in errors["line_items[0].total_tax"][0]


def test_non_object_order_and_lines() -> None:
    with pytest.raises(MappingError):
        map_econt([], SHOP)  # type: ignore[arg-type]
    order = fixture(1)
    order["line_items"] = {"0": {}}
    assert "line_items" in errors_of(order)
    order = fixture(1)
    order["line_items"][0] = "Ceai"
    assert "line_items[0]" in errors_of(order)


def test_an_order_with_nothing_to_invoice_is_an_error() -> None:
    order = fixture(1)
    order["line_items"], order["shipping_lines"], order["fee_lines"] = [], [], []
    order["total"] = "0.00"
    assert "line_items" in errors_of(order)


# --- leniency ----------------------------------------------------------------------------


def test_unknown_fields_are_ignored() -> None:
    order = fixture(2)
    order["brand_new_field"] = {"nested": [1, 2, 3]}
    order["billing"]["vat_number"] = "RO123"
    order["line_items"][0]["cost_of_goods_sold"] = {"total_value": 1.5}
    order["shipping_lines"][0]["tax_status"] = "taxable"
    order["fee_lines"][0]["plugin_extra"] = None
    assert map_econt(order, SHOP) == map_econt(fixture(2), SHOP)


def test_null_strings_read_as_empty() -> None:
    order = fixture(1)
    order["billing"]["company"] = None
    order["billing"]["address_2"] = None
    order["line_items"][0]["sku"] = None  # a deleted product
    order["customer_note"] = None
    draft = map_econt(order, SHOP)
    assert (draft.buyer.company, draft.buyer.address_2, draft.lines[0].sku) == ("", "", "")
    assert draft.customer_note == ""


def test_html_entities_in_names_are_decoded() -> None:
    order = fixture(1)
    order["line_items"][0]["name"] = "Ceai verde &ndash; Sencha"
    order["line_items"][1]["name"] = "  Set 2 &times; cană &amp; farfurie "
    order["shipping_lines"][0]["method_title"] = "Curier &amp; ramburs"
    order["fee_lines"] = [{"id": 9, "name": "Ambalare &#8211; cadou", "total": "0.00",
                           "total_tax": "0.00"}]
    names = [line.name for line in map_econt(order, SHOP).lines]
    assert names == ["Ceai verde \u2013 Sencha", "Set 2 \u00d7 cană & farfurie",
                     "Curier & ramburs", "Ambalare \u2013 cadou"]


def test_numbers_where_strings_are_expected_are_accepted() -> None:
    order = fixture(1)
    order["line_items"][0]["total"] = 465  # a plugin that writes numbers
    order["billing"]["postcode"] = 2038
    order["number"] = 1187
    draft = map_econt(order, SHOP)
    assert draft.lines[0].total_gross == Decimal("465.00")
    assert draft.buyer.postcode == "2038"
    assert draft.order_number == "1187"


def test_missing_number_falls_back_to_id() -> None:
    order = fixture(1)
    order["number"] = ""
    assert map_econt(order, SHOP).order_number == "1187"


# --- fiscal codes ------------------------------------------------------------------------


def test_idno_with_spaces_and_as_a_number() -> None:
    order = fixture(2)
    order["meta_data"][0]["value"] = " 1012 6000 34562 "
    assert map_econt(order, SHOP).buyer.idno == "1012600034562"
    order["meta_data"][0]["value"] = 1012600034562
    assert map_econt(order, SHOP).buyer.idno == "1012600034562"


def test_idnp_and_key_priority() -> None:
    order = fixture(1)
    order["meta_data"] += [
        {"id": 1, "key": "billing_idno", "value": "1003600012344"},
        {"id": 2, "key": "_billing_idno", "value": []},  # unset custom field
        {"id": 3, "key": "_billing_idnp", "value": "2001234567890"},
    ]
    buyer = map_econt(order, SHOP).buyer
    assert (buyer.idno, buyer.idnp) == ("1003600012344", "2001234567890")
    custom = shop_with(idno_meta_keys=("vat_id",), idnp_meta_keys=())
    order["meta_data"].append({"id": 4, "key": "vat_id", "value": "1009600000008"})
    buyer = map_econt(order, custom).buyer
    assert (buyer.idno, buyer.idnp) == ("1009600000008", "")


def test_idno_failing_its_check_digit_stops_the_order() -> None:
    order = fixture(2)
    order["meta_data"][0]["value"] = "1012600034567"  # ...562 is right
    errors = errors_of(order)
    assert list(errors) == ["meta_data[_billing_fiscal_code]"]
    assert "IDNO 1012600034567 fails its check digit" in errors[
        "meta_data[_billing_fiscal_code]"][0]


def test_warn_sends_an_idno_failing_its_check_digit_with_a_note() -> None:
    warn = shop_with(fiscal_code_check="warn")
    order = fixture(2)
    order["meta_data"][0]["value"] = "1012 6000 34567"
    draft = map_econt(order, warn)
    assert draft.buyer.idno == "1012600034567"
    assert draft.notes == ((
        "meta_data[_billing_fiscal_code]: IDNO 1012600034567 fails its check digit (the 13th "
        "digit, computed from the first 12 with weights 7, 3, 1): a digit is probably "
        'mistyped; sent as given (fiscal_code_check = "warn")'),)
    # a code of the wrong shape is no check-digit matter: it still stops the order
    order["meta_data"][0]["value"] = "101260003456"
    assert "13 digits" in errors_of(order, warn)["meta_data[_billing_fiscal_code]"][0]


def test_fiscal_helpers() -> None:
    assert fiscal.normalise_code("2001 2345 67890") == "2001234567890"
    with pytest.raises(ValueError, match="13 digits"):
        fiscal.normalise_code("675546554343")  # the 12-digit IDNO of the e-Cont.md docs
    lookup = fiscal.find_code([("a", ""), ("b", "1003600012344")], ("a", "b"))
    assert (lookup.code, lookup.key) == ("1003600012344", "b")
    assert fiscal.find_code([], ("a",)).code == ""
    assert fiscal.normalise_email(" ana@exemplu.md ") == "ana@exemplu.md"
    assert fiscal.normalise_email("ион@пример.md") == "ион@пример.md"


# --- amounts, splitting, rounding --------------------------------------------------------


def test_zero_decimal_order() -> None:
    order = build_order(order_id=5, currency="VND", decimals=0,
                        items=(Item("Cà phê", "17000000", 1, "CF", 1),), shipping=None)
    assert order["total"] == "17000000"
    draft = map_econt(order, SHOP)
    assert draft.decimals == 0
    body = render_invoice(draft)
    assert body["order"]["amount"] == "17000000"
    assert body["items"]["1"]["product_price"] == "17000000"


def test_three_decimal_order() -> None:
    order = build_order(currency="KWD", decimals=3, items=(Item("Dates", "1.250", 3, "D", 1),),
                        shipping=Shipping("Courier", "0.500", taxable=False))
    body = render_invoice(map_econt(order, SHOP))
    assert body["order"]["amount"] == "4.250"
    assert body["items"]["1"]["product_price"] == "1.250"


def test_a_total_that_does_not_divide_is_split_in_two_lines() -> None:
    order = fixture(1)
    order["line_items"][0].update(quantity=3, total="100.00", subtotal="100.00", price=33.33)
    order["total"] = "640.00"
    draft = map_econt(order, SHOP)
    first, second = draft.lines[:2]
    assert (first.quantity, first.unit_price_gross, first.total_gross) == (2, Decimal("33.33"),
                                                               Decimal("66.66"))
    assert (second.quantity, second.unit_price_gross, second.total_gross) == (1, Decimal("33.34"),
                                                                  Decimal("33.34"))
    assert (first.name, first.sku, first.source_id) == (second.name, second.sku,
                                                        second.source_id)
    assert list(render_invoice(draft)["items"]) == ["1", "2", "3", "4"]


def test_split_shares_net_and_tax() -> None:
    order = build_order(items=(Item("Pix", "8.33", 3, "P", 1),), tax_rate=20, shipping=None)
    draft = map_econt(order, SHOP)
    assert [(line.quantity, line.total_gross) for line in draft.lines] == [
        (2, Decimal("19.98")), (1, Decimal("10.01"))]  # 24.99 + 5.00 tax = 29.99
    assert [(line.total_net, line.total_tax) for line in draft.lines] == [
        (Decimal("16.66"), Decimal("3.32")), (Decimal("8.33"), Decimal("1.68"))]


def test_small_difference_becomes_a_rounding_line() -> None:
    order = fixture(2)
    order["total"] = "8377.22"  # per-line taxes rounded at subtotal level: 2 units off
    draft = map_econt(order, SHOP)
    rounding = draft.lines[-1]
    assert (len(draft.lines), rounding.kind, rounding.name) == (5, "rounding",
                                                            "Rounding difference")
    assert (rounding.quantity, rounding.total_gross, rounding.total_tax) == (1, Decimal("0.02"),
                                                                       Decimal("0.02"))
    assert draft.notes and "8377.20" in draft.notes[0]
    body = render_invoice(draft)
    assert body["items"]["5"]["line_total"] == "0.02"
    order["total"] = "8377.16"
    assert map_econt(order, shop_with(rounding_name="Rotunjire")).lines[-1].total_gross == (
        Decimal("-0.04"))


def test_large_difference_is_an_error_naming_both_numbers() -> None:
    order = fixture(2)
    order["total"] = "8400.00"
    errors = errors_of(order)
    assert list(errors) == ["total"]
    assert "8377.20" in errors["total"][0] and "8400.00" in errors["total"][0]


def test_builder_rounding_at_subtotal_gives_a_rounding_line() -> None:
    draft = map_econt(sample_orders()[3], SHOP)
    assert draft.lines[-1].kind == "rounding"
    assert draft.lines[-1].total_gross == Decimal("1")


def test_free_shipping_and_fully_discounted_lines_are_kept() -> None:
    order = build_order(items=(Item("Mostră ceai", "25.00", 2, "M", 1),), coupon_percent=100,
                        shipping=Shipping("Livrare gratuită", free=True))
    assert order["total"] == "0.00"
    draft = map_econt(order, SHOP)
    assert [(line.kind, line.total_gross) for line in draft.lines] == [
        ("product", Decimal("0.00")), ("shipping", Decimal("0.00"))]
    assert render_invoice(draft)["items"]["2"]["line_total"] == "0.00"


def test_empty_shipping_title_uses_the_configured_name() -> None:
    order = fixture(1)
    order["shipping_lines"][0]["method_title"] = ""
    assert map_econt(order, shop_with(shipping_name="Livrare")).lines[-1].name == "Livrare"


def test_negative_fee_line() -> None:
    order = build_order(items=(Item("Lampă", "649.90", 1, "L", 1),), tax_rate=20,
                        shipping=None, fees=(Fee("Reducere", "-50.00", taxable=True),))
    draft = map_econt(order, SHOP)
    fee = draft.lines[-1]
    assert (fee.kind, fee.quantity, fee.total_gross) == ("fee", 1, Decimal("-60.00"))
    assert render_invoice(draft)["items"]["2"]["product_price"] == "-60.00"
    assert draft.total == Decimal("719.88")


def test_b2b_order_from_builder_carries_company_and_idno() -> None:
    order = build_order(billing=Billing(company="Example SRL", fiscal_code="1001600012340"))
    buyer = map_econt(order, SHOP).buyer
    assert (buyer.company, buyer.idno) == ("Example SRL", "1001600012340")


def test_money_helpers() -> None:
    assert money.decimals_of("17000000") == 0
    assert money.decimals_of("8377.20") == 2
    assert money.decimals_of("1.250") == 3
    assert money.split_total(Decimal("100.00"), 3, 2) == [(2, Decimal("33.33")),
                                                          (1, Decimal("33.34"))]
    assert money.split_total(Decimal("100.00"), 4, 2) == [(4, Decimal("25.00"))]
    assert money.split_total(Decimal("0.01"), 3, 2) == [(2, Decimal("0.00")),
                                                        (1, Decimal("0.01"))]
    assert money.split_total(Decimal("10"), 3, 0) == [(2, Decimal("3")), (1, Decimal("4"))]
    assert money.format_amount(Decimal("-0.00"), 2) == "0.00"
    assert money.format_amount(Decimal("5"), 2) == "5.00"
    assert money.parse_amount(427.5) == Decimal("427.5")
    for bad in (True, "1e3", "NaN", float("inf"), "10" * 10):
        with pytest.raises(ValueError):
            money.parse_amount(bad)


# --- snapshot header ---------------------------------------------------------------------


def test_snapshot_header_of_a_fixture() -> None:
    header = read_snapshot_header(fixture(2))
    assert header.order_id == 1203
    assert (header.number, header.status) == ("1203", "on-hold")
    assert header.modified_at == datetime(2025, 4, 2, 7, 15, 36, tzinfo=UTC)


def test_snapshot_header_is_lenient() -> None:
    header = read_snapshot_header({"id": 7})
    assert (header.order_id, header.number, header.status, header.modified_at) == (
        7, None, None, None)
    header = read_snapshot_header({"id": 7, "number": 7, "status": ["x"],
                                   "date_modified_gmt": "yesterday", "billing": "broken"})
    assert (header.number, header.status, header.modified_at) == ("7", None, None)
    header = read_snapshot_header({"id": 7, "date_modified_gmt": "2025-04-02T07:15:36+03:00"})
    assert header.modified_at == datetime(2025, 4, 2, 4, 15, 36, tzinfo=UTC)


@pytest.mark.parametrize("data", [{}, {"id": None}, {"id": 0}, {"id": -1}, {"id": "12"},
                                  {"id": 1.0}, {"id": True}, []])
def test_snapshot_header_needs_a_positive_integer_id(data: Any) -> None:
    with pytest.raises(MappingError) as info:
        read_snapshot_header(data)
    assert list(info.value.errors) == ["id"]


def test_mapping_does_not_mutate_its_input() -> None:
    order = fixture(2)
    before = copy.deepcopy(order)
    map_econt(order, SHOP)
    assert order == before


def test_total_capped_at_zero_by_woocommerce_gets_an_adjustment_line() -> None:
    # Found by hypothesis: WooCommerce caps negative fees before tax and then clamps the
    # total at 0, so the tax on the fee can leave the lines at -6 against a total of 0.
    order = build_order(
        decimals=0, tax_rate=20, shipping=None,
        items=(Item("Ceai", "0", 1, product_id=1), Item("Ceai", "18", 8, product_id=1)),
        fees=(Fee("Reducere", "-143"), Fee("Taxă", "33"), Fee("Reducere", "-34")))
    assert order["total"] == "0"
    draft = map_econt(order, SHOP)
    [adjustment] = [line for line in draft.lines if line.kind == "adjustment"]
    assert adjustment.total_gross == Decimal(6)
    assert adjustment.name == "Discount capped at the order total"
    assert sum(line.total_gross for line in draft.lines) == 0
