"""The upstream-neutral invoice: what mapping produces and every upstream adapter renders.

All money is ``Decimal`` quantised to the order's currency decimals. The invariants every
draft satisfies (checked by ``InvoiceDraft.check()`` and by property tests):

- for every line, ``unit_price * quantity == total`` exactly;
- the line totals add up to ``total`` (the order total) exactly;
- every amount has exactly ``decimals`` decimal places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

LineKind = Literal["product", "shipping", "fee", "rounding", "adjustment"]


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
    email: str
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
    #: fiscal code of a legal entity (13 digits) or ""
    idno: str = ""
    #: personal code of an individual (13 digits) or ""
    idnp: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    #: unique within the invoice ("1", "2", ...): e-Cont.md wants a string holding an integer
    key: str
    kind: LineKind
    name: str
    quantity: int
    #: gross (tax included) price of one unit
    unit_price: Decimal
    #: gross line total; always unit_price * quantity
    total: Decimal
    #: the WooCommerce net total and tax of the source line (for upstreams that show VAT)
    net_total: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    sku: str = ""
    product_id: int | None = None
    unit: str = "pcs"
    #: the WooCommerce line id this came from (None for the rounding line)
    source_id: int | None = None


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
    customer_note: str = ""
    notes: tuple[str, ...] = field(default=())

    def check(self) -> None:
        """Raise ``AssertionError`` if an invariant does not hold (a bug in mapping)."""
        quantum = Decimal(1).scaleb(-self.decimals)
        for line in self.lines:
            assert line.quantity >= 1, f"line {line.key}: quantity {line.quantity}"
            assert line.unit_price * line.quantity == line.total, f"line {line.key}: price*qty"
            assert line.total == line.total.quantize(quantum), f"line {line.key}: decimals"
        assert sum((line.total for line in self.lines), Decimal(0)) == self.total, "sum != total"
