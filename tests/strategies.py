"""Hypothesis strategies: random but realistic WooCommerce orders built with ``build_order``.

They aim at the places where invoice arithmetic goes wrong: percent coupons whose cents are
floored and redistributed, tax rates that round (8.25 %, 5.5 %, 7 %), tax rounded at
subtotal level, negative and taxable fees, free shipping, 0/2/3-decimal currencies,
quantities that do not divide the discounted line total, 100 % discounts, many lines.

``order_params()`` draws the keyword arguments (so a failing example shows them readably);
``orders()`` builds the order dict from them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from stdnum.md import idno

from sandbox.woocommerce.samples import Billing, Fee, Item, Shipping, build_order

CURRENCIES = {
    0: ("MDL", "JPY", "KRW", "VND"),  # MDL: a shop configured with 0 decimals
    2: ("MDL", "EUR", "USD", "RON"),
    3: ("KWD", "BHD", "TND"),
}
STATUSES = ("processing", "on-hold", "completed", "pending")
NAMES = (
    "Ceai verde Sencha, 100 g",
    "Cană ceramică 350 ml - Albastru",
    "Set ceai &ndash; 3 arome",
    "Hârtie A4 80 g/m² &times; 5",
    "Pix &amp; creion",
    "Cartuș toner compatibil HP 85A",
)
#: rates that produce half-units and long fractions once applied to a price
TAX_RATES = (20, 8, 12, 19, 7, Decimal("8.25"), Decimal("5.5"), Decimal("17.5"), Decimal("0.1"))
#: percent coupons, including 100 % (fully discounted, zero-total lines)
COUPONS = (5, 10, 15, 33, 50, 100, Decimal("12.5"), Decimal("33.3"))


def amount(decimals: int, min_units: int, max_units: int) -> st.SearchStrategy[Decimal]:
    """An amount in minor units, as a Decimal with exactly ``decimals`` places."""
    return st.integers(min_units, max_units).map(lambda units: Decimal(units).scaleb(-decimals))


def prices(decimals: int) -> st.SearchStrategy[Decimal]:
    # cheap (a few minor units: every tax and discount rounds) to expensive
    return st.one_of(amount(decimals, 0, 20), amount(decimals, 1, 10**7))


@st.composite
def items(draw: st.DrawFn, decimals: int) -> Item:
    product_id = draw(st.integers(1, 99_999))
    return Item(
        name=draw(st.sampled_from(NAMES)),
        price=draw(prices(decimals)),
        quantity=draw(st.one_of(st.integers(1, 12), st.integers(13, 1000))),
        sku=draw(st.sampled_from(("", f"SKU-{product_id}"))),
        product_id=product_id,
    )


@st.composite
def shippings(draw: st.DrawFn, decimals: int) -> Shipping:
    free = draw(st.booleans())
    return Shipping(
        title=draw(st.sampled_from(("Livrare prin curier", "Livrare gratuită", ""))),
        cost=Decimal(0) if free else draw(amount(decimals, 0, 10**5)),
        taxable=draw(st.booleans()),
        free=free,
    )


@st.composite
def fees(draw: st.DrawFn, decimals: int) -> Fee:
    units = draw(st.integers(-(10**5), 10**5))
    return Fee(
        name=draw(st.sampled_from(("Taxă ambalare", "Reducere client fidel", "Ramburs"))),
        amount=Decimal(units).scaleb(-decimals),
        taxable=draw(st.booleans()),
    )


@st.composite
def billings(draw: st.DrawFn) -> Billing:
    kind = draw(st.sampled_from(("private", "idnp", "company")))
    code = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=12, max_size=12)))
    company = "1" + code[:11]  # an IDNO ends in its check digit (IDNPs have none we check)
    return Billing(
        company="Agroprim Nord SRL" if kind == "company" else "",
        fiscal_code=(company + idno.calc_check_digit(company)) if kind == "company"
        else ("2" + code) if kind == "idnp" else "",
        fiscal_code_key="_billing_idnp" if kind == "idnp" else "_billing_fiscal_code",
        country=draw(st.sampled_from(("MD", "RO", "UA", ""))),
    )


@st.composite
def order_params(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``build_order``."""
    decimals = draw(st.sampled_from((0, 2, 3)))
    order_id = draw(st.integers(1, 10**7))
    return {
        "order_id": order_id,
        "number": draw(st.sampled_from((str(order_id), f"WC-{order_id}"))),
        "status": draw(st.sampled_from(STATUSES)),
        "currency": draw(st.sampled_from(CURRENCIES[decimals])),
        "decimals": decimals,
        "items": draw(st.lists(items(decimals), min_size=1, max_size=30)),
        "coupon_percent": draw(st.none() | st.sampled_from(COUPONS)),
        "tax_rate": draw(st.none() | st.sampled_from(TAX_RATES)),
        "round_tax_at_subtotal": draw(st.booleans()),
        "shipping": draw(st.none() | shippings(decimals)),
        "fees": draw(st.lists(fees(decimals), max_size=3)),
        "billing": draw(billings()),
        "date_created_gmt": draw(st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31),
            timezones=st.just(UTC),
        )).replace(microsecond=0),
    }


def orders() -> st.SearchStrategy[dict[str, Any]]:
    """Random WooCommerce v3 order dicts."""
    return order_params().map(lambda params: build_order(**params))
