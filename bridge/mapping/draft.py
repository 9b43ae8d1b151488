"""The upstream-neutral invoice: what mapping produces and every upstream adapter renders.

Nothing here is any one service's rule: quantities are ``Decimal`` (whole or not), every line
carries its net and gross prices and its VAT rate, and each adapter turns this into its own
body, refusing what its service cannot take (``DraftRules`` lets it say so up front, so that
mapping reports every problem of an order at once).

All money is ``Decimal`` quantised to the order's currency decimals. The invariants every
draft satisfies (``InvoiceDraft.check()``; property tests exercise them):

- for every line with a whole quantity, ``unit_price_gross * quantity == total_gross``
  exactly (mapping splits a line whose total does not divide); with a fractional quantity
  the unit price carries ``UNIT_PRICE_EXTRA_PLACES`` more places and the product is within
  half a minor unit of the total, which stays authoritative;
- the gross line totals add up to ``total`` (the order total) exactly;
- every total has exactly ``decimals`` decimal places.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bridge.errors import InvariantBroken

#: places a fractional quantity's unit price carries beyond the currency's
UNIT_PRICE_EXTRA_PLACES = 4


class LineKind(StrEnum):
    PRODUCT = "product"
    SHIPPING = "shipping"
    FEE = "fee"
    #: tax rounding: the lines missed the order total by a few minor units
    ROUNDING = "rounding"
    #: WooCommerce capped a negative total at 0; this line brings the lines back to it
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True)
class DraftRules:
    """What an upstream cannot take, declared by its adapter and checked while mapping, so
    that an order's problems are all reported together.

    ``required`` maps a field path (``billing.email``) to why the service needs it."""

    required: Mapping[str, str] = field(default_factory=dict)
    #: the service takes whole quantities only
    whole_quantities: bool = False


#: an upstream that takes anything mapping produces
NO_RULES = DraftRules()


@dataclass(frozen=True)
class SnapshotHeader:
    """The few fields that identify an order snapshot; readable even when the rest of the
    order is invalid, so the rejection can still be recorded on the right sync row."""

    order_id: int
    number: str | None
    status: str | None
    #: date_modified_gmt as an aware UTC datetime (None if the shop sent none)
    modified_at: datetime | None


@dataclass(frozen=True)
class Buyer:
    #: "" when the shop sent none (an upstream that needs it says so in its DraftRules)
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    postcode: str = ""
    #: ISO 3166-1 alpha-2, or "" when the shop sent none
    country: str = ""
    #: Moldovan fiscal code of a legal entity (13 digits) or ""
    idno: str = ""
    #: Moldovan personal code of an individual (13 digits) or ""
    idnp: str = ""
    #: a company's registration number in its country (a Czech IČO, a Spanish CIF, ...) or ""
    company_id: str = ""
    #: its VAT number, with the country prefix when it has one ("CZ25123891") or ""
    vat_id: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    kind: LineKind
    name: str
    quantity: Decimal
    #: price of one unit with VAT (what the buyer pays) and without it
    unit_price_gross: Decimal
    unit_price_net: Decimal
    #: the line's totals; ``total_gross`` is authoritative (the lines add up to the order)
    total_gross: Decimal
    total_net: Decimal
    #: VAT rate in percent (``Decimal("20")``), 0 for an untaxed line, None when the shop did
    #: not say (no ``rate_percent`` in its tax lines) and for rounding/adjustment lines
    vat_rate: Decimal | None
    unit: str = "pcs"
    sku: str = ""
    product_id: int | None = None
    #: the WooCommerce line id this came from (None for rounding/adjustment lines)
    source_id: int | None = None

    @property
    def total_tax(self) -> Decimal:
        return self.total_gross - self.total_net

    @property
    def whole_quantity(self) -> bool:
        return self.quantity == self.quantity.to_integral_value()


@dataclass(frozen=True)
class Refund:
    """A WooCommerce refund of the order (``refunds[]``), as a positive amount."""

    refund_id: int
    amount: Decimal
    reason: str = ""


@dataclass(frozen=True)
class InvoiceDraft:
    shop: str
    order_id: int
    order_number: str
    #: WooCommerce status of the order (processing, on-hold, ...)
    status: str
    currency: str
    decimals: int
    total: Decimal
    #: when the order was created, in the shop's configured time zone
    created_at: datetime
    buyer: Buyer
    lines: tuple[InvoiceLine, ...]
    #: the shop enters prices with VAT (WooCommerce ``prices_include_tax``)
    prices_include_tax: bool = False
    customer_note: str = ""
    notes: tuple[str, ...] = field(default=())
    #: how the buyer pays: WooCommerce's gateway id ("bacs", "cod", "stripe", ...) and title
    payment_method: str = ""
    payment_method_title: str = ""
    #: when the order was paid (``date_paid_gmt``), None while it is not. Not part of what
    #: the invoice shows: an order becoming paid is a payment to record, not a change
    paid_at: datetime | None = None
    #: refunds so far; likewise recorded on their own (a correction), not a change
    refunds: tuple[Refund, ...] = field(default=())
    #: the WooCommerce customer id (0 for a guest): who the buyer is to an upstream that
    #: keeps contacts (Fakturoid's subjects); not part of what the invoice shows
    customer_id: int = 0

    @property
    def refunded(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal(0))

    def check(self) -> None:
        """Raise ``InvariantBroken`` if an invariant does not hold: a bug in mapping, and
        better to stop than to send an invoice whose lines do not add up."""
        quantum = Decimal(1).scaleb(-self.decimals)
        for number, line in enumerate(self.lines, start=1):
            product = line.unit_price_gross * line.quantity
            _require(line.quantity > 0, f"line {number}: quantity {line.quantity}")
            _require(line.total_gross == line.total_gross.quantize(quantum),
                     f"line {number}: total {line.total_gross} has not {self.decimals} places")
            if line.whole_quantity:
                _require(product == line.total_gross, f"line {number}: price x quantity")
            else:
                _require(abs(product - line.total_gross) * 2 < quantum,
                         f"line {number}: price x quantity too far from the total")
        _require(sum((line.total_gross for line in self.lines), Decimal(0)) == self.total,
                 "the lines do not add up to the order total")


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBroken(f"invoice draft: {what}")
