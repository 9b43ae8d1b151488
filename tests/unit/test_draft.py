"""The upstream-neutral draft: no service's rules unless the upstream declares them, a VAT
rate on every line, Decimal quantities, and invariants that raise (not assert)."""

from __future__ import annotations

import copy
import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.config.model import ShopSettings
from bridge.errors import InvariantBroken, MappingError
from bridge.mapping.build import map_order
from bridge.mapping.draft import DraftRules, LineKind
from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.econt.render import render_invoice
from bridge.upstreams.econt.settings import EcontSettings
from sandbox.woocommerce.samples import build_order

SHOP = ShopSettings(id="shop", webhook_secret="s", upstream=EcontSettings(
    base_url="http://127.0.0.1:1", client_id="0" * 32, token="1" * 32))
FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(n: int) -> dict[str, Any]:
    return json.loads((FIXTURES / f"woo_order_example_{n}.json").read_text(encoding="utf-8"))


def test_every_line_carries_its_vat_rate_and_net_and_gross_prices() -> None:
    draft = map_order(fixture(2), SHOP)  # 20 % VAT on items, shipping and the fee
    assert [line.kind for line in draft.lines] == [
        LineKind.PRODUCT, LineKind.PRODUCT, LineKind.SHIPPING, LineKind.FEE]
    assert [line.vat_rate for line in draft.lines] == [Decimal(20)] * 4
    paper = draft.lines[0]
    assert (paper.quantity, paper.unit_price_net, paper.unit_price_gross) == (
        Decimal(10), Decimal("427.50"), Decimal("513.00"))
    assert (paper.total_net, paper.total_gross, paper.total_tax) == (
        Decimal("4275.00"), Decimal("5130.00"), Decimal("855.00"))
    assert draft.prices_include_tax is False


def test_untaxed_lines_are_zero_rated_and_unknown_rates_say_so() -> None:
    untaxed = map_order(build_order(order_id=5), SHOP)  # no tax at all
    assert {line.vat_rate for line in untaxed.lines} == {Decimal(0)}

    order = fixture(2)
    del order["tax_lines"][0]["rate_percent"]  # WooCommerce before 3.7 sends none
    assert {line.vat_rate for line in map_order(order, SHOP).lines} == {None}

    order = fixture(2)
    order["line_items"][0]["taxes"] = "not a list"  # a plugin's odd breakdown
    draft = map_order(order, SHOP)
    assert draft.lines[0].vat_rate is None and draft.lines[1].vat_rate == Decimal(20)


def test_two_rates_on_one_line_add_up() -> None:
    order = fixture(2)
    order["tax_lines"].append({"id": 9, "rate_id": 2, "rate_percent": 5, "compound": False})
    order["line_items"][0]["taxes"].append({"id": 2, "total": "1", "subtotal": "1"})
    assert map_order(order, SHOP).lines[0].vat_rate == Decimal(25)


def test_no_rules_means_no_service_rules() -> None:
    """Without an upstream's rules the e-mail is optional and quantities may be
    fractional; with e-Cont.md's, both are field errors reported with the rest."""
    order = build_order(order_id=6)
    order["billing"]["email"] = ""
    order["line_items"][0]["quantity"] = 1.5
    order["line_items"][0]["total"] = "232.50"  # 1.5 x 155.00
    order["total"] = "772.50"
    draft = map_order(order, SHOP)
    assert draft.buyer.email == "" and draft.lines[0].quantity == Decimal("1.5")
    assert draft.lines[0].unit_price_gross == Decimal("155.00")
    draft.check()

    with pytest.raises(MappingError) as refused:
        map_order(order, SHOP, EcontUpstream.rules)
    assert set(refused.value.errors) == {"billing.email", "line_items[0].quantity"}
    assert "e-mails the invoice" in refused.value.errors["billing.email"][0]


def test_a_fractional_quantity_whose_price_does_not_fit_gets_more_places() -> None:
    order = build_order(order_id=7)
    order["line_items"][0]["quantity"] = "0.333"
    order["line_items"][0]["total"] = "100.00"
    order["total"] = str(Decimal(order["total"]) - Decimal("465.00") + Decimal("100.00"))
    line = map_order(order, SHOP).lines[0]
    assert line.total_gross == Decimal("100.00")
    assert line.unit_price_gross == Decimal("300.300300")  # 2 + 4 places
    map_order(order, SHOP).check()


def test_required_fields_are_reported_even_when_the_rest_cannot_be_read() -> None:
    order = fixture(1)
    order["billing"]["email"] = None
    order["currency"] = "?"
    rules = DraftRules(required={"billing.email": "needed"})
    with pytest.raises(MappingError) as refused:
        map_order(order, SHOP, rules)
    assert set(refused.value.errors) == {"billing.email", "currency"}


def test_a_broken_invariant_raises_even_under_python_o() -> None:
    draft = map_order(fixture(1), SHOP)
    broken = dataclasses.replace(draft, total=draft.total + 1)
    with pytest.raises(InvariantBroken, match="do not add up"):
        broken.check()
    line = dataclasses.replace(draft.lines[0], unit_price_gross=Decimal("1.00"))
    with pytest.raises(InvariantBroken, match="price x quantity"):
        dataclasses.replace(draft, lines=(line, *draft.lines[1:])).check()


def test_the_econt_body_is_what_it_was_before_the_draft_became_neutral() -> None:
    """The e-Cont.md adapter applies the rules the old draft had built in: keys "1", "2",
    ..., integer quantities, gross prices."""
    body = render_invoice(map_order(copy.deepcopy(fixture(2)), SHOP, EcontUpstream.rules))
    assert list(body["items"]) == ["1", "2", "3", "4"]
    first = body["items"]["1"]
    assert (first["product_qnt"], first["product_price"], first["line_total"]) == (
        10, "513.00", "5130.00")


def test_a_company_buyer_carries_its_registration_and_vat_numbers() -> None:
    order = fixture(1)
    order["meta_data"] += [{"id": 91, "key": "_billing_ic", "value": "251 23 891"},
                           {"id": 92, "key": "_billing_vat_number", "value": "cz 25123891"}]
    buyer = map_order(order, SHOP).buyer
    assert (buyer.company_id, buyer.vat_id) == ("25123891", "CZ25123891")

    order["meta_data"][-1]["value"] = "CZ25123890"  # one digit off
    with pytest.raises(MappingError) as refused:
        map_order(order, SHOP)
    assert "fails its check digit" in refused.value.errors["meta_data[_billing_vat_number]"][0]

    order["meta_data"][-1]["value"] = "123456789"  # no EU prefix: kept as typed
    assert map_order(order, SHOP).buyer.vat_id == "123456789"
