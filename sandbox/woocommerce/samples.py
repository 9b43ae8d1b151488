"""Realistic, internally consistent WooCommerce REST v3 orders for tests, the demo and the
property tests.

``build_order(...)`` computes an order the way WooCommerce does for a shop whose prices exclude
tax (``prices_include_tax`` false), with a single standard tax rate:

- percent coupons: each item gets ``floor(subtotal x percent)`` in minor units, and the cents
  lost to flooring are handed out one per unit until the cart-wide discount (rounded half
  *down*, ``WC_DISCOUNT_ROUNDING_MODE`` = 2) is reached (``WC_Discounts::apply_coupon_percent``
  and ``apply_coupon_remainder``);
- tax per line rounded half up to the shop's decimals -- or, with ``round_tax_at_subtotal``,
  kept unrounded per line (6 places, ``WC_ROUNDING_PRECISION``) and rounded only in the order
  sums, which is what makes the lines miss the total by a few minor units;
- negative fees are capped so the net total does not go below zero, their tax is spread over
  the taxable share of the cart, and the order total is never negative (``WC_Cart_Totals``);
- ``total`` = round(items + fees + shipping + all taxes as computed); ``cart_tax`` covers items
  and fees; ``total_tax`` = ``cart_tax`` + ``shipping_tax``;
- formatted money strings carry exactly ``decimals`` places (none at all for 0); the
  per-line ``taxes`` arrays and coupon ``discount`` hold raw, unformatted strings ("855",
  "471.2"); ``price`` is a JSON number (line total / quantity), as WooCommerce sends it.

Money is computed in ``Decimal``; the only float is ``price`` (and ``rate_percent``), because
that is what WooCommerce puts on the wire.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

Money = Decimal | int | str

#: WooCommerce keeps unrounded amounts to this many places (WC_ROUNDING_PRECISION).
RAW_PLACES = 6
TAX_RATE_ID = 1


@dataclass(frozen=True)
class Item:
    """A product line: ``price`` is the net unit price as entered in the shop."""

    name: str
    price: Money
    quantity: int = 1
    sku: str = ""
    product_id: int = 0
    variation_id: int = 0
    #: attribute meta of a variation, e.g. (("pa_culoare", "Culoare", "Albastru"),)
    attributes: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Shipping:
    title: str = "Livrare prin curier"
    cost: Money = 0
    taxable: bool = True
    #: a free_shipping method: cost 0, method id free_shipping
    free: bool = False
    method_id: str = "flat_rate"


@dataclass(frozen=True)
class Fee:
    name: str
    #: may be negative (a discount added as a fee)
    amount: Money
    taxable: bool = False


@dataclass(frozen=True)
class Billing:
    first_name: str = "Elena"
    last_name: str = "Rusu"
    company: str = ""
    address_1: str = "bd. Dacia 27, ap. 41"
    address_2: str = ""
    city: str = "Chișinău"
    state: str = ""
    postcode: str = "MD-2038"
    country: str = "MD"
    email: str | None = "elena.rusu@mail.example"
    phone: str = "+37369123456"
    #: IDNO/IDNP as a checkout-field plugin stores it in the order meta ("" = none)
    fiscal_code: str = ""
    fiscal_code_key: str = "_billing_fiscal_code"
    vat_code: str = ""


DEFAULT_ITEMS = (
    Item("Ceai verde Sencha, 100 g", "155.00", 3, "CEAI-SENCHA-100", 412),
    Item("Cană ceramică 350 ml - Albastru", "240.00", 2, "CANA-350-ALB", 530, 534,
         (("pa_culoare", "Culoare", "Albastru"),)),
)
DEFAULT_CREATED = datetime(2025, 3, 14, 16, 42, 7, tzinfo=UTC)


@dataclass
class _Line:
    """Working numbers of one item while the order is computed."""

    item: Item
    subtotal: Decimal
    discount_units: int = 0
    total: Decimal = Decimal(0)
    subtotal_tax_raw: Decimal = Decimal(0)
    tax_raw: Decimal = Decimal(0)
    extra: dict[str, Any] = field(default_factory=dict)


def build_order(
    *,
    order_id: int = 1187,
    number: str | None = None,
    status: str = "processing",
    currency: str = "MDL",
    decimals: int = 2,
    items: Sequence[Item] = DEFAULT_ITEMS,
    coupon_percent: Money | None = None,
    coupon_code: str = "promo",
    tax_rate: Money | None = None,
    tax_label: str = "TVA",
    round_tax_at_subtotal: bool = False,
    shipping: Shipping | None = Shipping(cost="60.00", taxable=False),
    fees: Sequence[Fee] = (),
    billing: Billing = Billing(),
    customer_note: str = "",
    customer_id: int = 0,
    payment_method: tuple[str, str] = ("cod", "Plata la livrare"),
    date_created_gmt: datetime = DEFAULT_CREATED,
    date_modified_gmt: datetime | None = None,
    timezone: str = "Europe/Chisinau",
    shop_url: str = "https://shop.example",
    first_item_id: int | None = None,
    extra_meta: Sequence[tuple[str, Any]] = (),
) -> dict[str, Any]:
    """A WooCommerce v3 order dict (as ``json.loads`` of a webhook body would give it)."""
    calc = _Calculator(decimals, _dec(tax_rate) if tax_rate is not None else None,
                       round_tax_at_subtotal)
    lines = calc.items(items, _dec(coupon_percent) if coupon_percent is not None else None)
    ship = calc.shipping(shipping)
    fee_rows = calc.fees(fees, lines, ship)
    sums = calc.sums(lines, ship, fee_rows)
    ids = _Ids(first_item_id if first_item_id is not None else order_id * 2)
    created = date_created_gmt.astimezone(UTC)
    modified = (date_modified_gmt or created + timedelta(seconds=4)).astimezone(UTC)
    paid = created + timedelta(seconds=4) if status in ("processing", "completed") else None
    completed = modified if status == "completed" else None
    zone = ZoneInfo(timezone)
    fmt = calc.fmt
    key = "wc_order_" + _digest(f"key{order_id}")[:13]

    order: dict[str, Any] = {
        "id": order_id,
        "parent_id": 0,
        "status": status,
        "currency": currency,
        "version": "10.2.2",
        "prices_include_tax": False,
        "date_created": _local(created, zone),
        "date_modified": _local(modified, zone),
        "discount_total": fmt(sums["discount"]),
        "discount_tax": fmt(sums["discount_tax"]),
        "shipping_total": fmt(sums["shipping"]),
        "shipping_tax": fmt(sums["shipping_tax"]),
        "cart_tax": fmt(sums["cart_tax"]),
        "total": fmt(sums["total"]),
        "total_tax": fmt(sums["cart_tax"] + sums["shipping_tax"]),
        "customer_id": customer_id,
        "order_key": key,
        "billing": _billing(billing),
        "shipping": _shipping_address(billing),
        "payment_method": payment_method[0],
        "payment_method_title": payment_method[1],
        "transaction_id": "",
        "customer_ip_address": "203.0.113.45",
        "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                               "(KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
        "created_via": "checkout",
        "customer_note": customer_note,
        "date_completed": _local(completed, zone),
        "date_paid": _local(paid, zone),
        "cart_hash": _digest(f"cart{order_id}")[:32],
        "number": number if number is not None else str(order_id),
        "meta_data": _order_meta(billing, extra_meta, ids),
        "line_items": [_item_json(line, calc, ids) for line in lines],
        "tax_lines": _tax_lines(calc, sums, tax_label, ids),
        "shipping_lines": _shipping_json(ship, calc, lines, ids),
        "fee_lines": [_fee_json(row, calc, ids) for row in fee_rows],
        "coupon_lines": _coupon_json(coupon_code, coupon_percent, sums, calc, ids),
        "refunds": [],
        "payment_url": f"{shop_url}/checkout/order-pay/{order_id}/?pay_for_order=true&key={key}",
        "is_editable": status in ("pending", "on-hold", "auto-draft"),
        "needs_payment": status in ("pending", "failed") and sums["total"] > 0,
        "needs_processing": True,
        "date_created_gmt": _gmt(created),
        "date_modified_gmt": _gmt(modified),
        "date_completed_gmt": _gmt(completed),
        "date_paid_gmt": _gmt(paid),
        "currency_symbol": currency,
        "_links": _links(shop_url, order_id, customer_id),
    }
    return order


# --- the arithmetic ----------------------------------------------------------------------


class _Calculator:
    def __init__(self, decimals: int, rate: Decimal | None, at_subtotal: bool) -> None:
        if decimals not in range(0, 7):
            raise ValueError(f"decimals must be 0..6, got {decimals}")
        self.decimals = decimals
        self.quantum = Decimal(1).scaleb(-decimals)
        self.rate = rate
        self.at_subtotal = at_subtotal

    def round(self, value: Decimal, mode: str = ROUND_HALF_UP) -> Decimal:
        result = value.quantize(self.quantum, rounding=mode)
        return result.copy_abs() if result.is_zero() else result

    def fmt(self, value: Decimal) -> str:
        """wc_format_decimal(value, dp): rounded half up, exactly ``decimals`` places."""
        return f"{self.round(value):f}"

    def money(self, value: Money) -> Decimal:
        amount = _dec(value)
        if amount != self.round(amount):
            raise ValueError(f"{value!r} has more than {self.decimals} decimal places")
        return self.round(amount)

    def tax(self, net: Decimal, taxable: bool = True) -> Decimal:
        """The tax of one line: rounded to the shop's decimals, or kept raw (6 places) when
        the shop rounds tax at subtotal level."""
        if self.rate is None or not taxable:
            return Decimal(0)
        raw = (net * self.rate / 100).quantize(Decimal(1).scaleb(-RAW_PLACES), ROUND_HALF_UP)
        return raw if self.at_subtotal else self.round(raw)

    def items(self, items: Sequence[Item], percent: Decimal | None) -> list[_Line]:
        lines = []
        for item in items:
            if item.quantity < 1:
                raise ValueError(f"{item.name}: quantity must be at least 1")
            lines.append(_Line(item, self.money(item.price) * item.quantity))
        if percent:
            self._discount(lines, percent)
        for line in lines:
            line.total = line.subtotal - Decimal(line.discount_units).scaleb(-self.decimals)
            line.subtotal_tax_raw = self.tax(line.subtotal)
            line.tax_raw = self.tax(line.total)
        return lines

    def _discount(self, lines: list[_Line], percent: Decimal) -> None:
        """WC_Discounts::apply_coupon_percent + apply_coupon_remainder, in minor units."""
        scale = Decimal(10) ** self.decimals
        units = [int(line.subtotal * scale) for line in lines]
        for line, sub in zip(lines, units, strict=True):
            floored = int((sub * percent / 100).to_integral_value(ROUND_FLOOR))
            line.discount_units = min(sub, floored)
        wanted = int((sum(units) * percent / 100).to_integral_value(ROUND_HALF_DOWN))
        missing = wanted - sum(line.discount_units for line in lines)
        for line, sub in zip(lines, units, strict=True):
            for _ in range(line.item.quantity):
                if missing <= 0:
                    return
                if line.discount_units < sub:
                    line.discount_units += 1
                    missing -= 1

    def shipping(self, shipping: Shipping | None) -> tuple[Shipping, Decimal, Decimal] | None:
        if shipping is None:
            return None
        cost = Decimal(0) if shipping.free else self.money(shipping.cost)
        return shipping, cost, self.tax(cost, shipping.taxable)

    def fees(self, fees: Sequence[Fee], lines: list[_Line],
             ship: tuple[Shipping, Decimal, Decimal] | None) -> list[tuple[Fee, Decimal, Decimal]]:
        """WC_Cart_Totals::get_fees_from_cart: a negative fee may not take the net total below
        zero, and its tax is not its own -- it is spread over the taxable share of what is
        already in the cart (items, shipping, earlier fees), like a true discount."""
        taxed = sum((line.total for line in lines), Decimal(0))
        untaxed = Decimal(0)
        if ship:
            taxed, untaxed = (taxed + ship[1], untaxed) if ship[0].taxable else (
                taxed, untaxed + ship[1])
        base = sum((line.total for line in lines), Decimal(0)) + (ship[1] if ship else 0)
        running = Decimal(0)
        rows = []
        for fee in fees:
            amount = self.money(fee.amount)
            if amount < 0:
                amount = max(amount, -(base + running))
                costs = taxed + untaxed
                tax = self.tax(amount * taxed / costs) if costs else Decimal(0)
            else:
                tax = self.tax(amount, fee.taxable)
                taxed, untaxed = (taxed + amount, untaxed) if fee.taxable else (
                    taxed, untaxed + amount)
            running += amount
            rows.append((fee, amount, tax))
        return rows

    def sums(self, lines: list[_Line], ship: tuple[Shipping, Decimal, Decimal] | None,
             fee_rows: list[tuple[Fee, Decimal, Decimal]]) -> dict[str, Decimal]:
        items_total = sum((line.total for line in lines), Decimal(0))
        fees_total = sum((row[1] for row in fee_rows), Decimal(0))
        shipping_total = ship[1] if ship else Decimal(0)
        cart_tax_raw = (sum((line.tax_raw for line in lines), Decimal(0))
                        + sum((row[2] for row in fee_rows), Decimal(0)))
        shipping_tax_raw = ship[2] if ship else Decimal(0)
        # WC_Cart_Totals::calculate_totals rounds the grand total once, over the taxes as they
        # are (unrounded in "round at subtotal" shops), while cart_tax and shipping_tax are
        # rounded on their own: so the lines' rounded taxes, and even cart_tax + shipping_tax,
        # can miss the total by a few minor units. With per-line rounding everything adds up.
        total = self.round(items_total + fees_total + shipping_total + cart_tax_raw
                           + shipping_tax_raw)
        return {
            "items": items_total,
            "discount": sum((line.subtotal - line.total for line in lines), Decimal(0)),
            "discount_tax": sum((self.round(line.subtotal_tax_raw) - self.round(line.tax_raw)
                                 for line in lines), Decimal(0)),
            "shipping": shipping_total,
            "shipping_tax": self.round(shipping_tax_raw),
            "cart_tax": self.round(cart_tax_raw),
            # the cart total is never negative (max(0, ...) in calculate_totals)
            "total": max(total, Decimal(0)),
        }


# --- JSON pieces ---------------------------------------------------------------------------


class _Ids:
    """WooCommerce order item and meta ids are global auto-increments; we hand out a run."""

    def __init__(self, start: int) -> None:
        self.next_id = start

    def __call__(self) -> int:
        self.next_id += 1
        return self.next_id


def _item_json(line: _Line, calc: _Calculator, ids: _Ids) -> dict[str, Any]:
    item = line.item
    taxed = calc.rate is not None
    unit = line.total / item.quantity
    return {
        "id": ids(),
        "name": item.name,
        "product_id": item.product_id,
        "variation_id": item.variation_id,
        "quantity": item.quantity,
        "tax_class": "",
        "subtotal": calc.fmt(line.subtotal),
        "subtotal_tax": calc.fmt(line.subtotal_tax_raw),
        "total": calc.fmt(line.total),
        "total_tax": calc.fmt(line.tax_raw),
        "taxes": [{"id": TAX_RATE_ID, "total": _raw(line.tax_raw),
                   "subtotal": _raw(line.subtotal_tax_raw)}] if taxed else [],
        "meta_data": [{"id": ids(), "key": key, "value": value.lower(), "display_key": label,
                       "display_value": value} for key, label, value in item.attributes],
        "sku": item.sku,
        "global_unique_id": "",
        # WooCommerce sends total / quantity as a JSON number (an int when whole)
        "price": int(unit) if unit == unit.to_integral_value() else float(unit),
        "image": {"id": 900 + item.product_id if item.product_id else 0,
                  "src": f"https://shop.example/wp-content/uploads/{item.sku or 'item'}.jpg"
                  if item.product_id else ""},
        "parent_name": item.name.split(" - ")[0] if item.variation_id else None,
    }


def _shipping_json(ship: tuple[Shipping, Decimal, Decimal] | None, calc: _Calculator,
                   lines: list[_Line], ids: _Ids) -> list[dict[str, Any]]:
    if ship is None:
        return []
    shipping, cost, tax = ship
    taxed = calc.rate is not None and shipping.taxable and not shipping.free
    listing = ", ".join(f"{line.item.name} &times; {line.item.quantity}" for line in lines)
    return [{
        "id": ids(),
        "method_title": shipping.title,
        "method_id": "free_shipping" if shipping.free else shipping.method_id,
        "instance_id": "2" if shipping.free else "3",
        "total": calc.fmt(cost),
        "total_tax": calc.fmt(tax),
        "taxes": [{"id": TAX_RATE_ID, "total": _raw(tax), "subtotal": ""}] if taxed else [],
        "meta_data": [{"id": ids(), "key": "Items", "value": listing, "display_key": "Items",
                       "display_value": listing}],
    }]


def _fee_json(row: tuple[Fee, Decimal, Decimal], calc: _Calculator, ids: _Ids) -> dict[str, Any]:
    fee, amount, tax = row
    # a negative fee carries tax whatever its tax status (it is spread like a discount)
    taxed = calc.rate is not None and (fee.taxable or not tax.is_zero())
    return {
        "id": ids(),
        "name": fee.name,
        "tax_class": "",
        "tax_status": "taxable" if fee.taxable else "none",
        "amount": _raw(_dec(fee.amount)),
        "total": calc.fmt(amount),
        "total_tax": calc.fmt(tax),
        "taxes": [{"id": TAX_RATE_ID, "total": _raw(tax), "subtotal": ""}] if taxed else [],
        "meta_data": [],
    }


def _tax_lines(calc: _Calculator, sums: dict[str, Decimal], label: str,
               ids: _Ids) -> list[dict[str, Any]]:
    if calc.rate is None:
        return []
    rate = calc.rate
    return [{
        "id": ids(),
        "rate_code": f"MD-{label}-1",
        "rate_id": TAX_RATE_ID,
        "label": label,
        "compound": False,
        "tax_total": calc.fmt(sums["cart_tax"]),
        "shipping_tax_total": calc.fmt(sums["shipping_tax"]),
        "rate_percent": int(rate) if rate == rate.to_integral_value() else float(rate),
        "meta_data": [],
    }]


def _coupon_json(code: str, percent: Money | None, sums: dict[str, Decimal],
                 calc: _Calculator, ids: _Ids) -> list[dict[str, Any]]:
    if not percent:
        return []
    pct = _dec(percent)
    nominal = int(pct) if pct == pct.to_integral_value() else float(pct)
    info = json.dumps([88, code, "percent", nominal], separators=(",", ":"))
    return [{
        "id": ids(),
        "code": code.lower(),
        "discount": _raw(sums["discount"]),
        "discount_tax": _raw(sums["discount_tax"]),
        "meta_data": [{"id": ids(), "key": "coupon_info", "value": info,
                       "display_key": "coupon_info", "display_value": info}],
        "discount_type": "percent",
        "nominal_amount": nominal,
        "free_shipping": False,
    }]


def _billing(b: Billing) -> dict[str, Any]:
    return {
        "first_name": b.first_name, "last_name": b.last_name, "company": b.company,
        "address_1": b.address_1, "address_2": b.address_2, "city": b.city, "state": b.state,
        "postcode": b.postcode, "country": b.country, "email": b.email, "phone": b.phone,
    }


def _shipping_address(b: Billing) -> dict[str, Any]:
    address = _billing(b)
    del address["email"]
    return address


def _order_meta(b: Billing, extra: Sequence[tuple[str, Any]], ids: _Ids) -> list[dict[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    if b.fiscal_code:
        pairs.append((b.fiscal_code_key, b.fiscal_code))
    if b.vat_code:
        pairs.append(("_billing_vat_code", b.vat_code))
    pairs += [("is_vat_exempt", "no"), ("_wc_order_attribution_source_type", "typein"),
              ("_wc_order_attribution_device_type", "Desktop"), *extra]
    return [{"id": ids(), "key": key, "value": value} for key, value in pairs]


def _links(shop_url: str, order_id: int, customer_id: int) -> dict[str, Any]:
    api = f"{shop_url}/wp-json/wc/v3"
    links: dict[str, Any] = {
        "self": [{"href": f"{api}/orders/{order_id}",
                  "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]}}],
        "collection": [{"href": f"{api}/orders"}],
        "email_templates": [{"embeddable": True,
                             "href": f"{api}/orders/{order_id}/actions/email_templates"}],
    }
    if customer_id:
        links["customer"] = [{"href": f"{api}/customers/{customer_id}"}]
    return links


# --- small helpers -----------------------------------------------------------------------


def _dec(value: Money) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        # no floats: a float amount would already have lost its exact value
        raise TypeError(f"amounts are Decimal, int or str, got {type(value).__name__}")
    return Decimal(value)


def _raw(value: Decimal) -> str:
    """An unformatted amount as PHP prints a float: "855", "471.2", "0.833333", "-30"."""
    if value.is_zero():
        return "0"
    return f"{value.normalize():f}"


def _gmt(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if moment else None


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S") if moment else None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- the demo set --------------------------------------------------------------------------


def sample_orders() -> list[dict[str, Any]]:
    """A handful of varied, realistic orders (ids 2001..) for the demo and smoke tests."""
    b2b = Billing(first_name="Ion", last_name="Ciobanu", company="Agroprim Nord SRL",
                  address_1="str. Independenței 12, of. 4", city="Bălți", postcode="MD-3100",
                  email="achizitii@agroprim-nord.example", phone="+37323112233",
                  fiscal_code="1012600034562", vat_code="0608123")
    return [
        # B2C in MDL, cash on delivery, no VAT, flat-rate shipping
        build_order(order_id=2001, customer_note="Vă rog să sunați înainte de livrare."),
        # B2B in MDL: IDNO, 20 % VAT, 5 % coupon, taxable fee, taxed shipping, bank transfer
        build_order(
            order_id=2002, status="on-hold", customer_id=57, billing=b2b,
            payment_method=("bacs", "Transfer bancar direct"),
            items=(Item("Hârtie copiator A4 80 g/m², cutie 5 topuri", "450.00", 10,
                        "HA4-80-5T", 701),
                   Item("Cartuș toner compatibil HP 85A", "620.00", 4, "TON-HP85A-C", 733)),
            coupon_percent=5, coupon_code="b2b5", tax_rate=20,
            shipping=Shipping("Livrare cu transport propriu", "200.00"),
            fees=(Fee("Taxă ambalare pe paletă", "150.00", taxable=True),),
        ),
        # EUR, free shipping, 10 % coupon: 3 x 9.99 discounted does not divide by 3
        build_order(
            order_id=2003, currency="EUR",
            billing=Billing(first_name="Maria", last_name="Lungu", city="Iași",
                            postcode="700259", country="RO", email="maria.lungu@mail.example",
                            address_1="Str. Lăpușneanu 14", phone="+40722000111"),
            items=(Item("Set ceai &ndash; 3 arome", "9.99", 3, "SET-CEAI-3", 611),),
            coupon_percent=10, shipping=Shipping("Livrare gratuită", free=True),
        ),
        # a shop configured with 0 decimals for MDL, VAT rounded at subtotal level: the line
        # taxes 4.2, 3.4 and 2.4 show as 4 + 3 + 2 = 9 but the order tax is round(10.0) = 10
        build_order(
            order_id=2004, decimals=0, tax_rate=20, round_tax_at_subtotal=True,
            items=(Item("Pix gel albastru", "7", 3, "PIX-GEL-A", 801),
                   Item("Caiet A5 96 file", "17", 1, "CAIET-A5", 802),
                   Item("Marker permanent", "12", 1, "MARK-P", 803)),
            shipping=Shipping("Ridicare din magazin", "0", method_id="local_pickup"),
        ),
        # a 0-decimal currency (JPY)
        build_order(
            order_id=2005, currency="JPY", decimals=0,
            billing=Billing(first_name="Haruki", last_name="Sato", city="Osaka",
                            postcode="530-0001", country="JP", email="h.sato@mail.example",
                            address_1="1-1 Umeda", phone="+81612345678"),
            items=(Item("Matcha ceremonial 30 g", "3200", 2, "MATCHA-30", 905),),
            shipping=Shipping("EMS", "2400", taxable=False),
        ),
        # a negative fee (loyalty discount), free shipping, VAT on the fee too
        build_order(
            order_id=2006, status="completed", tax_rate=20,
            items=(Item("Lampă de birou LED", "649.90", 1, "LAMP-LED", 1201),
                   Item("Bec LED E27 9W", "32.50", 6, "BEC-E27-9", 1202)),
            shipping=Shipping("Livrare gratuită", free=True),
            fees=(Fee("Reducere client fidel", "-50.00", taxable=True),),
        ),
    ]
