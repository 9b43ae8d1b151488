"""Rendering a draft for Fakturoid: the invoice's total (as Fakturoid computes it, per the
documented examples and our rounding assumption) equals the order's, every line carries its
VAT rate, prices are net or gross as the shop enters them, the buyer is a subject found by
our key, and a refund is a correction document."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.config.model import ShopSettings
from bridge.errors import MappingError
from bridge.mapping.build import map_order
from bridge.mapping.draft import InvoiceDraft, LineKind
from bridge.upstreams.fakturoid import assumptions as fak
from bridge.upstreams.fakturoid.render import invoice_total, render_correction, render_invoice
from bridge.upstreams.fakturoid.settings import FakturoidSettings
from sandbox.woocommerce.samples import Billing, Fee, Item, Shipping, build_order
from tests.strategies import CURRENCIES, orders

RATES = tuple((code, Decimal("1.5")) for code in sorted({c for cs in CURRENCIES.values()
                                                          for c in cs} | {"EUR", "MDL"}))
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fakturoid(**options: Any) -> FakturoidSettings:
    values: dict[str, Any] = {"base_url": "http://127.0.0.1:1", "account_slug": "shop",
                              "client_id": "id", "client_secret": "secret",
                              "user_agent": "Test (t@example.com)", "exchange_rates": RATES}
    return FakturoidSettings(**{**values, **options})


def shop(**options: Any) -> ShopSettings:
    return ShopSettings(id="shop", webhook_secret="s", upstream=fakturoid(**options))


def draft_of(order: dict[str, Any], **options: Any) -> InvoiceDraft:
    return map_order(order, shop(**options))


def render(order: dict[str, Any] | InvoiceDraft, **options: Any) -> dict[str, Any]:
    draft = order if isinstance(order, InvoiceDraft) else draft_of(order, **options)
    return render_invoice(draft, fakturoid(**options))


def total(payload: dict[str, Any]) -> Decimal:
    invoice = payload["invoice"]
    return invoice_total(invoice["lines"], invoice["vat_price_mode"])


@PROPERTY
@given(orders(), st.sampled_from(["auto", "with_vat", "without_vat"]), st.booleans())
def test_the_invoice_adds_up_to_the_order_in_every_price_mode(
        order: dict[str, Any], mode: str, gross_shop: bool) -> None:
    order["prices_include_tax"] = gross_shop
    try:
        draft = draft_of(order, vat_price_mode=mode)
    except MappingError:
        return  # mapping's own refusals are tested in test_mapping*
    try:
        payload = render(draft, vat_price_mode=mode)
    except MappingError as exc:
        assert draft.decimals > fak.AMOUNT_PLACES, exc  # the one thing Fakturoid cannot hold
        return
    assert total(payload) == draft.total
    assert json.loads(json.dumps(payload)) == payload  # plain JSON, money as strings
    for line in payload["invoice"]["lines"]:
        assert all(isinstance(line[key], str) for key in ("quantity", "unit_price", "vat_rate"))


def test_vat_rate_per_line_from_the_tax_lines() -> None:
    order = build_order(tax_rate=21, shipping=Shipping(cost="100.00", taxable=True),
                        fees=[Fee("Dobírka", "30.00", taxable=False)])
    lines = render(order)["invoice"]["lines"]
    assert [(line["name"], line["vat_rate"]) for line in lines] == [
        ("Ceai verde Sencha, 100 g", "21"), ("Cană ceramică 350 ml - Albastru", "21"),
        ("Livrare prin curier", "21"), ("Dobírka", "0")]


def test_net_prices_as_the_shop_enters_them() -> None:
    payload = render(build_order(tax_rate=21))
    invoice = payload["invoice"]
    assert invoice["vat_price_mode"] == fak.PRICE_WITHOUT_VAT
    assert invoice["lines"][0] == {"name": "Ceai verde Sencha, 100 g", "quantity": "3",
                                   "unit_name": "pcs", "unit_price": "155.00", "vat_rate": "21"}
    assert "private_note" not in invoice


def test_gross_prices_when_the_shop_enters_them_or_is_told() -> None:
    order = build_order(tax_rate=21)
    for payload in (render({**order, "prices_include_tax": True}),
                    render(order, vat_price_mode="with_vat")):
        invoice = payload["invoice"]
        assert invoice["vat_price_mode"] == fak.PRICE_WITH_VAT
        assert invoice["lines"][0]["unit_price"] == "187.55"  # 155.00 + 21 %
    without = render({**order, "prices_include_tax": True}, vat_price_mode="without_vat")
    assert without["invoice"]["vat_price_mode"] == fak.PRICE_WITHOUT_VAT


def test_a_gross_line_that_does_not_divide_is_split_so_the_total_stays_exact() -> None:
    order = build_order(items=[Item("Tea", "10.00", 3)], tax_rate=Decimal("8.25"),
                        shipping=None)
    draft = draft_of(order)
    payload = render(draft, vat_price_mode="with_vat")
    assert [(line["quantity"], line["unit_price"]) for line in payload["invoice"]["lines"]] \
        == [("2", "10.82"), ("1", "10.84")]
    assert total(payload) == draft.total == Decimal("32.48")  # 30.00 + 2.475 rounded


def test_vat_rounded_at_subtotal_level_becomes_a_vat_free_rounding_line() -> None:
    """The shop rounds tax once for the order; Fakturoid per line. The net prices stay as
    entered and one line without VAT carries the difference (like Fakturoid's own
    rounding_adjustment)."""
    order = build_order(items=[Item("Pen", "0.33", 7), Item("Ink", "0.33", 7)], tax_rate=21,
                        round_tax_at_subtotal=True, shipping=None)
    draft = draft_of(order)
    payload = render(draft)
    invoice = payload["invoice"]
    assert invoice["vat_price_mode"] == fak.PRICE_WITHOUT_VAT
    assert total(payload) == draft.total
    # 2 x 7 x 0.33 at 21 %: per line 2.31 + 0.49, twice, is 5.60; the shop says 5.59
    assert invoice["lines"][-1] == {"name": "Rounding difference", "quantity": "1",
                                    "unit_name": "pcs", "unit_price": "-0.01", "vat_rate": "0"}
    assert [line["unit_price"] for line in invoice["lines"][:-1]] == ["0.33", "0.33"]


def test_net_prices_that_miss_by_more_than_rounding_are_sent_gross() -> None:
    draft = draft_of(build_order(tax_rate=20, shipping=None))
    # a line whose tax the shop did not charge although its rate says 20 %: Fakturoid would
    # add 20 % to the net price, far more than rounding
    first = draft.lines[0]
    odd = dataclasses.replace(first, unit_price_net=first.unit_price_gross,
                              total_net=first.total_gross)
    draft = dataclasses.replace(draft, lines=(odd, *draft.lines[1:]))
    payload = render(draft)
    assert payload["invoice"]["vat_price_mode"] == fak.PRICE_WITH_VAT
    assert "miss the order's total by more than rounding" in payload["invoice"]["private_note"]
    assert total(payload) == draft.total


def test_an_unknown_vat_rate_on_a_taxed_line_is_named() -> None:
    order = build_order(tax_rate=20)
    for line in order["tax_lines"]:
        line.pop("rate_percent", None)
    with pytest.raises(MappingError) as raised:
        render(order)
    assert "lines[1].vat_rate" in raised.value.errors
    assert "Fakturoid needs the VAT rate of every line" in str(raised.value)


def test_another_currency_needs_an_exchange_rate() -> None:
    order = build_order(currency="EUR")
    assert render(order)["invoice"]["exchange_rate"] == "1.5"
    with pytest.raises(MappingError) as raised:
        render(order, exchange_rates=())
    assert "currency: EUR is not the Fakturoid account's currency (CZK)" in str(raised.value)
    assert "exchange_rate" not in render(build_order(currency="CZK"))["invoice"]


def test_three_decimal_currencies_are_refused() -> None:
    with pytest.raises(MappingError, match="Fakturoid keeps amounts to 2"):
        render(build_order(currency="KWD", decimals=3))


def test_our_keys_and_the_buyer() -> None:
    guest = render(build_order(order_id=1203))
    assert guest["invoice"]["custom_id"] == "shop:1203"
    assert guest["subject"]["custom_id"] == "shop:order:1203"
    assert fak.order_of_invoice_key("shop:1203") == ("shop", 1203)
    company = Billing(company="Apple Czech s.r.o.", first_name="Jan", last_name="Novák",
                      country="CZ", email="jan@apple.example")
    payload = render(build_order(order_id=1204, customer_id=57, billing=company,
                                 extra_meta=[("_billing_ic", "25123891"),
                                             ("_billing_vat_number", "CZ25123891")]))
    subject, invoice = payload["subject"], payload["invoice"]
    assert subject["custom_id"] == "shop:customer:57"
    assert (subject["name"], subject["full_name"]) == ("Apple Czech s.r.o.", "Jan Novák")
    assert (subject["registration_no"], subject["vat_no"]) == ("25123891", "CZ25123891")
    assert (invoice["client_name"], invoice["client_registration_no"],
            invoice["client_vat_no"]) == ("Apple Czech s.r.o.", "25123891", "CZ25123891")
    # a later private purchase of the same customer does not inherit the company's numbers
    private = render(build_order(order_id=1205, customer_id=57))["invoice"]
    assert private["client_registration_no"] == private["client_vat_no"] == ""


def test_a_buyer_without_a_name_is_named_by_the_order() -> None:
    nameless = Billing(first_name="", last_name="", email=None)
    subject = render(build_order(order_id=9, billing=nameless))["subject"]
    assert subject["name"] == "Customer of order 9" and "email" not in subject


def test_payment_methods_language_and_due() -> None:
    assert render(build_order(payment_method=("bacs", "Bank transfer")))["invoice"][
        "payment_method"] == "bank"
    cheque = render(build_order(payment_method=("cheque", "Check payments, postal order")))
    assert cheque["invoice"]["payment_method"] == "custom"
    assert cheque["invoice"]["custom_payment_method"] == "Check payments, post"  # 20 chars
    unknown = render(build_order(payment_method=("gopay", "GoPay")))["invoice"]
    assert "payment_method" not in unknown  # the account's default
    invoice = render(build_order(payment_method=("gopay", "GoPay")),
                     payment_method_default="card", language="en", due=7)["invoice"]
    assert (invoice["payment_method"], invoice["language"], invoice["due"]) == ("card", "en", 7)


# --- corrections ------------------------------------------------------------------------


def correction(draft: InvoiceDraft, amount: str, **options: Any) -> dict[str, Any]:
    return render_correction(key="shop:1187:77", invoice_id="9001", amount=Decimal(amount),
                             reason="returned", draft=draft,
                             original={"subject_id": 16, "exchange_rate": "24.35"},
                             settings=fakturoid(**options))


def test_a_full_refund_repeats_every_line_with_the_opposite_sign() -> None:
    draft = draft_of(build_order(tax_rate=21, currency="EUR"))
    body = correction(draft, str(draft.total))
    assert (body["document_type"], body["correction_id"], body["custom_id"],
            body["subject_id"]) == ("correction", 9001, "shop:1187:77", 16)
    assert body["exchange_rate"] == "24.35"  # the corrected invoice's rate
    assert len(body["lines"]) == len(draft.lines)
    assert all(Decimal(line["unit_price"]) < 0 for line in body["lines"] if
               Decimal(line["unit_price"]))
    assert invoice_total(body["lines"], body["vat_price_mode"]) == -draft.total


def test_a_partial_refund_is_shared_among_the_vat_rates() -> None:
    order = build_order(tax_rate=21, shipping=Shipping(cost="100.00", taxable=False))
    draft = draft_of(order, exchange_rates=RATES)
    body = correction(draft, "100.00")
    rates = [line["vat_rate"] for line in body["lines"]]
    assert rates == ["0", "21"]
    assert invoice_total(body["lines"], fak.PRICE_WITH_VAT) == Decimal("-100.00")
    shares = {line["vat_rate"]: -Decimal(line["unit_price"]) for line in body["lines"]}
    gross = {rate: sum((line.total_gross for line in draft.lines
                        if (line.vat_rate or 0) == Decimal(rate)), Decimal(0))
             for rate in ("0", "21")}
    assert shares["0"] == (Decimal("100.00") * gross["0"] / draft.total).quantize(
        Decimal("0.01"))
    assert "exchange_rate" not in correction(draft_of(build_order(currency="CZK")), "1.00")


def test_rounding_lines_are_never_taxed() -> None:
    draft = draft_of(build_order(tax_rate=20, shipping=None))
    rounding = dataclasses.replace(draft.lines[0], kind=LineKind.ROUNDING, vat_rate=None,
                                   name="Rounding difference")
    line = render_invoice(dataclasses.replace(draft, lines=(*draft.lines, rounding),
                                              total=draft.total + rounding.total_gross),
                          fakturoid(vat_price_mode="with_vat"))["invoice"]["lines"][-1]
    assert line["vat_rate"] == "0"
