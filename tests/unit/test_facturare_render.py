"""facturare.md rendering: whatever the order, the invoice the service computes from our body
totals exactly what the buyer pays -- net prices with VAT on top, or gross prices with the VAT
inside, as the shop enters them -- every taxed line carries its VAT, and the customer is
reused only when every detail matches."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.config.model import ShopSettings
from bridge.errors import MappingError
from bridge.mapping.build import map_order
from bridge.mapping.draft import Buyer, InvoiceDraft, InvoiceLine, LineKind
from bridge.upstreams.facturare import assumptions as facturare
from bridge.upstreams.facturare.adapter import FacturareUpstream
from bridge.upstreams.facturare.render import render_customer, render_payload, unit_cost_for
from bridge.upstreams.facturare.settings import FacturareSettings
from sandbox.woocommerce.samples import Billing, Item, build_order, sample_orders
from tests.strategies import orders

SETTINGS = FacturareSettings(base_url="http://127.0.0.1:1", api_key="test-key")
SHOP = ShopSettings(id="shop", webhook_secret="x", upstream=SETTINGS)
RULES = FacturareUpstream.rules
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def service_total(invoice: dict[str, Any]) -> Decimal:
    """What the service makes of the invoice (assumptions.line_amount: per line quantity x
    unit cost, rounded; exclusive taxes on top; inclusive ones are inside the amount)."""
    total = Decimal(0)
    for item in invoice["items"]:
        total += facturare.line_amount(Decimal(item["quantity"]), Decimal(item["unit_cost"]),
                                       invoice["currency"])
        total += sum((Decimal(tax["amount"]) for tax in item.get("taxes", [])
                      if not tax["inclusive"]), Decimal(0))
    return total


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


@PROPERTY
@given(orders(), st.booleans())
def test_the_service_total_is_the_order_total(order: dict[str, Any], gross: bool) -> None:
    draft = replace(map_order(order, SHOP, RULES), prices_include_tax=gross)
    payload = render_payload(draft)
    invoice = payload["invoice"]
    assert service_total(invoice) == draft.total
    assert len(invoice["items"]) == len(draft.lines)
    # plain JSON, money as strings, nothing a float could have touched
    assert json.loads(json.dumps(payload)) == payload
    assert not any(isinstance(leaf, float) for leaf in leaves(payload))
    for item, line in zip(invoice["items"], draft.lines, strict=True):
        tax = sum((Decimal(t["amount"]) for t in item.get("taxes", [])), Decimal(0))
        assert tax == line.total_tax
        assert all(t["inclusive"] is gross for t in item.get("taxes", []))


def draft_of(**order: Any) -> InvoiceDraft:
    return map_order(build_order(**order), SHOP, RULES)


def test_net_prices_with_the_vat_on_top_line_by_line() -> None:
    draft = draft_of(order_id=2002, tax_rate=20, items=(Item("Hârtie A4", "450.00", 10),),
                     shipping=None)
    [item] = render_payload(draft)["invoice"]["items"]
    assert item == {"name": "Hârtie A4", "quantity": "10", "unit_cost": "450.00",
                    "taxes": [{"amount": "900.00", "rate": "20", "inclusive": False}]}
    assert draft.total == Decimal("5400.00")


def test_gross_prices_when_the_shop_enters_prices_with_vat() -> None:
    draft = replace(draft_of(tax_rate=20, items=(Item("Hârtie A4", "450.00", 10),),
                             shipping=None), prices_include_tax=True)
    [item] = render_payload(draft)["invoice"]["items"]
    assert item["unit_cost"] == "540.00" and item["quantity"] == "10"
    assert item["taxes"] == [{"amount": "900.00", "rate": "20", "inclusive": True}]


def test_untaxed_lines_carry_no_tax_and_an_unknown_rate_is_left_out() -> None:
    untaxed = render_payload(draft_of())["invoice"]["items"]
    assert all("taxes" not in item for item in untaxed)
    draft = draft_of(tax_rate=20)
    lines = tuple(replace(line, vat_rate=None) for line in draft.lines)
    taxed = render_payload(replace(draft, lines=lines))["invoice"]["items"]
    assert taxed[0]["taxes"] == [{"amount": "93.00", "inclusive": False}]


def test_a_unit_cost_is_found_for_a_total_that_does_not_divide() -> None:
    # 100.00 for 3: 33.333 x 3 = 99.999, which the service rounds to 100.00
    assert unit_cost_for(Decimal("100.00"), Decimal(3), "mdl") == Decimal("33.333")
    assert unit_cost_for(Decimal("10.00"), Decimal("0.333"), "eur") == Decimal("30.03")
    # a shop with 0 decimals in MDL: the draft's net unit price (4 places more than the
    # shop's) misses once the service rounds to MDL's 2 decimals; ours does not
    assert facturare.line_amount(Decimal(300), Decimal("3.3333"), "mdl") == Decimal("999.99")
    unit_cost = unit_cost_for(Decimal(1000), Decimal(300), "mdl")
    assert unit_cost == Decimal("3.33333")
    assert facturare.line_amount(Decimal(300), unit_cost, "mdl") == 1000


def test_a_line_no_unit_cost_can_land_on_becomes_one_unit_of_its_total() -> None:
    draft = draft_of(shipping=None)
    odd = InvoiceLine(kind=LineKind.PRODUCT, name="Sare la vrac", quantity=Decimal("123456789.5"),
                      unit_price_gross=Decimal("0.000000081"), unit_price_net=Decimal("0.0000001"),
                      total_gross=Decimal("10.01"), total_net=Decimal("10.01"), vat_rate=None)
    assert unit_cost_for(odd.total_net, odd.quantity, "mdl") is None
    payload = render_payload(replace(draft, lines=(odd,), total=Decimal("10.01")))
    [item] = payload["invoice"]["items"]
    assert item == {"name": "Sare la vrac (123456789.5 pcs)", "quantity": "1",
                    "unit_cost": "10.01"}


def test_amounts_finer_than_the_currency_are_refused_with_the_fields_named() -> None:
    draft = draft_of(currency="JPY", decimals=2, items=(Item("Matcha", "10.50", 1),),
                     shipping=None)
    with pytest.raises(MappingError) as refused:
        render_payload(draft)
    assert "total" in refused.value.errors and "lines[0]" in refused.value.errors
    assert "keeps JPY amounts to 0 decimals" in str(refused.value)
    # the same amounts in a 0-decimal shop are fine, and so is "10.00" written with decimals
    assert render_payload(draft_of(currency="JPY", decimals=0, shipping=None))
    assert render_payload(draft_of(currency="JPY", decimals=2,
                                   items=(Item("Matcha", "10.00", 1),), shipping=None))


def test_the_invoice_carries_our_key_the_order_number_the_date_and_the_note() -> None:
    draft = draft_of(order_id=4711, number="WC-4711", customer_note="Sunați înainte",
                     currency="EUR")
    invoice = render_payload(draft)["invoice"]
    assert invoice["metadata"] == {facturare.ORDER_KEY: "shop:4711"}
    assert invoice["purchase_order"] == "WC-4711" and invoice["notes"] == "Sunați înainte"
    assert invoice["currency"] == "eur"
    assert invoice["date"] == int(draft.created_at.timestamp())
    assert set(invoice) <= set(facturare.INVOICE_FIELDS)


def test_a_company_customer_with_its_fiscal_code() -> None:
    b2b = map_order(sample_orders()[1], SHOP, RULES).buyer
    customer = render_customer(b2b)
    assert customer["type"] == "company" and customer["name"] == "Agroprim Nord SRL"
    assert customer["tax_id"] == "1012600034562"
    assert customer["metadata"]["idno"] == "1012600034562"
    assert len(customer["metadata"][facturare.CUSTOMER_KEY]) == 32
    assert set(customer) <= set(facturare.CUSTOMER_FIELDS)


def test_a_person_is_named_by_first_and_last_name_and_empty_fields_are_left_out() -> None:
    customer = render_customer(Buyer(email="ana@mail.example", first_name="Ana",
                                     country="MD"))
    assert customer["name"] == "Ana" and customer["type"] == "person"
    assert set(customer) == {"name", "email", "type", "country", "metadata"}
    assert render_customer(Buyer(email="x@mail.example"))["name"] == "x@mail.example"


def test_the_tax_id_prefers_the_moldovan_code_then_the_vat_number() -> None:
    eu = Buyer(email="a@b.example", company="Firma s.r.o.", vat_id="CZ25123891",
               company_id="25123891")
    assert render_customer(eu)["tax_id"] == "CZ25123891"
    assert render_customer(replace(eu, vat_id=""))["tax_id"] == "25123891"
    assert render_customer(Buyer(email="a@b.example", idnp="2001234567890"))["tax_id"] \
        == "2001234567890"


def test_the_customer_key_changes_with_any_detail_and_only_then() -> None:
    buyer = map_order(build_order(), SHOP, RULES).buyer
    key = render_customer(buyer)["metadata"][facturare.CUSTOMER_KEY]
    assert render_customer(replace(buyer))["metadata"][facturare.CUSTOMER_KEY] == key
    for change in ({"city": "Bălți"}, {"company": "Ana SRL"}, {"email": "e@mail.example"},
                   {"idnp": "2001234567890"}):
        assert render_customer(replace(buyer, **change))["metadata"][
            facturare.CUSTOMER_KEY] != key


def test_the_buyers_e_mail_is_required() -> None:
    with pytest.raises(MappingError, match=r"billing\.email: required: facturare\.md e-mails"):
        map_order(build_order(billing=Billing(email="")), SHOP, RULES)
