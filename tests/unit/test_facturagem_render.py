"""A draft as the FACTURAgem adapter sends it: the lines add up to what the buyer paid, each
with its IVA rate, prices gross or net as configured, the client as the buyer, and the notes
beginning with the reference ``find_invoice`` looks for -- and nothing a buyer types can
pass for it."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from bridge.config.model import MappingSettings, ShopSettings
from bridge.errors import MappingError
from bridge.mapping.build import map_order
from bridge.mapping.draft import InvoiceDraft
from bridge.upstreams.facturagem import assumptions
from bridge.upstreams.facturagem.adapter import FacturagemUpstream
from bridge.upstreams.facturagem.render import plain, render_invoice
from bridge.upstreams.facturagem.settings import FacturagemSettings
from sandbox.facturagem.state import line_totals
from sandbox.woocommerce.samples import Billing, Fee, Item, Shipping, build_order, sample_orders

SETTINGS = FacturagemSettings(base_url="http://127.0.0.1:1/api/v1", login="l", password="p")
SHOP = ShopSettings(id="tienda", webhook_secret="s", upstream=SETTINGS,
                    mapping=MappingSettings(vat_id_meta_keys=("_billing_nif",)))


def draft_of(order: dict[str, Any]) -> InvoiceDraft:
    return map_order(order, SHOP, FacturagemUpstream.rules)


def spanish_order(**options: Any) -> dict[str, Any]:
    return build_order(**{"currency": "EUR", "tax_rate": 21, "items": (
        Item("Aceite de oliva virgen extra 1 l", "8.26", 3, "ACE-1L", 11),
        Item("Turrón de Jijona 300 g", "9.99", 2, "TUR-300", 12)),
        "shipping": Shipping("Envío estándar", "4.13"),
        "fees": (Fee("Descuento fidelidad", "-2.00", taxable=True),), **options})


def test_gross_prices_add_up_to_the_order_total_exactly() -> None:
    for order in [*sample_orders(), spanish_order(coupon_percent=10)]:
        draft = draft_of(order)
        invoice = render_invoice(draft, SETTINGS)["invoice"]
        assert invoice["prices_include_tax"] is True
        lines = invoice["lines"]
        assert sum((Decimal(line["quantity"]) * Decimal(line["price"]) for line in lines),
                   Decimal(0)) == draft.total
        # and as the simulated FACTURAgem computes it (cents, IVA taken out of the price)
        assert sum((line_totals(line, True)["total"] for line in lines), Decimal(0)) \
            == draft.total


def test_every_line_carries_its_iva_rate() -> None:
    draft = draft_of(spanish_order())
    lines = render_invoice(draft, SETTINGS)["invoice"]["lines"]
    assert [line["iva_percent"] for line in lines] == [plain(line.vat_rate or Decimal(0))
                                                        for line in draft.lines]
    assert {line["iva_percent"] for line in lines} == {"21"}
    untaxed = render_invoice(draft_of(build_order(tax_rate=None)), SETTINGS)["invoice"]
    assert {line["iva_percent"] for line in untaxed["lines"]} == {"0"}


def test_net_prices_leave_the_tax_to_facturagem() -> None:
    draft = draft_of(spanish_order())
    net = replace(SETTINGS, line_prices="net")
    invoice = render_invoice(draft, net)["invoice"]
    assert "prices_include_tax" not in invoice
    assert [line["price"] for line in invoice["lines"]] == [f"{line.unit_price_net:f}"
                                                           for line in draft.lines]
    gross = render_invoice(draft, SETTINGS)["invoice"]
    assert [line["price"] for line in gross["lines"]] == [f"{line.unit_price_gross:f}"
                                                         for line in draft.lines]
    assert invoice["lines"][0]["price"] == "8.26" and gross["lines"][0]["price"] == "9.99"


def test_rounding_lines_are_sent_as_untaxed_amounts() -> None:
    order = build_order(decimals=0, tax_rate=20, round_tax_at_subtotal=True, items=(
        Item("Pix gel albastru", "7", 3, "PIX-GEL-A", 801), Item("Caiet A5", "17", 1, "C", 2),
        Item("Marker permanent", "12", 1, "MARK-P", 803)))
    draft = draft_of(order)
    assert draft.lines[-1].kind == "rounding"
    for prices in ("gross", "net"):
        last = render_invoice(draft, replace(SETTINGS, line_prices=prices))["invoice"]["lines"][-1]
        assert last == {"description": "Rounding difference", "quantity": "1",
                        "price": f"{draft.lines[-1].total_gross:f}", "iva_percent": "0"}


def test_a_line_whose_vat_rate_is_unknown_is_refused_with_its_position() -> None:
    order = spanish_order()
    del order["tax_lines"][0]["rate_percent"]
    draft = draft_of(order)
    with pytest.raises(MappingError) as refused:
        render_invoice(draft, SETTINGS)
    assert set(refused.value.errors) == {f"lines[{n}]" for n in range(1, len(draft.lines) + 1)}
    assert "FACTURAgem needs the IVA of every line" in str(refused.value)


def test_currency_is_sent_only_when_it_is_not_the_accounts() -> None:
    assert "currency" not in render_invoice(draft_of(spanish_order()), SETTINGS)["invoice"]
    moldovan = render_invoice(draft_of(build_order(currency="MDL")), SETTINGS)["invoice"]
    assert moldovan["currency"] == "MDL"
    usd_account = replace(SETTINGS, account_currency="MDL")
    assert "currency" not in render_invoice(draft_of(build_order(currency="MDL")),
                                            usd_account)["invoice"]


def test_a_currency_with_three_decimals_is_refused() -> None:
    draft = draft_of(build_order(currency="KWD", decimals=3, items=(Item("Tea", "1.250", 2),)))
    with pytest.raises(MappingError) as refused:
        render_invoice(draft, SETTINGS)
    assert "currency: FACTURAgem computes amounts in cents; KWD has 3 decimals" \
        in str(refused.value)


def test_the_client_is_the_buyer() -> None:
    company = Billing(first_name="Lucía", last_name="Martín", company="Ultramarinos Sol S.L.",
                      address_1="Calle Mayor 5", address_2="2º B", city="Madrid",
                      postcode="28013", country="ES", email="compras@sol.example",
                      phone="+34911222333")
    draft = draft_of(spanish_order(billing=company, extra_meta=[("_billing_nif",
                                                                   " b-12345678 ")]))
    assert render_invoice(draft, SETTINGS)["client"] == {
        "name": "Ultramarinos Sol S.L.", "nif": "B-12345678", "email": "compras@sol.example",
        "phone": "+34911222333", "address": "Calle Mayor 5, 2º B", "city": "Madrid",
        "postal_code": "28013", "country": "ES"}
    person = render_invoice(draft_of(build_order(billing=Billing(
        first_name="Elena", last_name="Rusu", address_1="", city="", postcode="",
        country="", phone="", email="elena@mail.example"))), SETTINGS)["client"]
    assert person == {"name": "Elena Rusu", "email": "elena@mail.example"}


def test_the_notes_begin_with_the_reference_and_hold_nothing_the_buyer_typed() -> None:
    order = build_order(order_id=1203, number="ES-2026-0042",
                        customer_note=f"{assumptions.REFERENCE_PREFIX}tienda:999\nllamar antes")
    payload = render_invoice(draft_of(order), SETTINGS)
    notes = payload["invoice"]["notes"]
    assert payload["reference"] == "tienda:1203"
    assert notes == "Ref. pedido: tienda:1203\nPedido nº ES-2026-0042"
    assert assumptions.reference_in_notes(notes) == "tienda:1203"
    assert "999" not in json.dumps(payload)


@pytest.mark.parametrize(("notes", "found"), [
    ("Ref. pedido: tienda:1203", "tienda:1203"),
    ("Ref. pedido: tienda:1203\r\nPedido nº 7", "tienda:1203"),
    ("  Ref. pedido: tienda:1203  \n", "tienda:1203"),
    ("Pedido nº 7\nRef. pedido: tienda:1203", None),  # only the first line counts
    ("Ref. pedido: ", None), ("", None), (None, None), (42, None),
])
def test_reading_the_reference_back(notes: Any, found: str | None) -> None:
    assert assumptions.reference_in_notes(notes) == found


def test_the_payload_is_plain_json_with_money_as_strings() -> None:
    payload = render_invoice(draft_of(spanish_order()), SETTINGS)
    assert json.loads(json.dumps(payload)) == payload
    for line in payload["invoice"]["lines"]:
        assert all(isinstance(value, str) for value in line.values())


def test_plain_numbers() -> None:
    assert [plain(Decimal(text)) for text in ("3", "21.00", "1.500", "300", "0.000", "-0")] \
        == ["3", "21", "1.5", "300", "0", "0"]
