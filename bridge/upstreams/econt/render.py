"""Rendering an ``InvoiceDraft`` as the body of e-Cont.md ``put/invoice`` (without ``connect``).

Shape (docs: Invoice Object, items; docs/econt.md)::

    {"order": {"id": 1203, "order_number": "1203", "amount": "8377.20", "currency": "MDL",
               "date_created": "2025-04-02 10:15:33", "status": "on-hold",
               "customer_note": "...", "billing": {"company": ..., "email": ..., ...}},
     "items": {"1": {"product_id": 701, "product_sku": "...", "product_name": "...",
                     "product_price": "513.00", "product_qnt": 10, "product_unit": "pcs",
                     "line_total": "5130.00"}, ...}}

Amounts are strings with exactly the order's decimals, as in every documented example
(``assumptions.py``); ids and quantities are integers. Nothing else: the body must be
JSON-serialisable and carry no floats. The adapter adds the ``connect`` credentials.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields

from bridge.mapping import money
from bridge.mapping.draft import InvoiceDraft, InvoiceLine
from bridge.upstreams.econt.assumptions import DATE_FORMAT


class Amount(fields.Field[Decimal]):
    """A ``Decimal`` already quantised to the order's decimals (``render_invoice`` sees to
    that) as its fixed-point text: ``Decimal("8377.20")`` -> ``"8377.20"``."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str:
        return f"{value:f}"


class BillingSchema(Schema):
    """``order.billing`` from a ``Buyer``. ``billing.id`` is left out: the docs say the
    current API ignores it and we have no payer id of our own."""

    company = fields.String()
    idno = fields.String()
    idnp = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    address_1 = fields.String()
    address_2 = fields.String()
    city = fields.String()
    postcode = fields.String()
    country = fields.String()
    email = fields.String()
    phone = fields.String()


class OrderSchema(Schema):
    """``order`` from an ``InvoiceDraft``."""

    id = fields.Integer(attribute="order_id")
    order_number = fields.String()
    amount = Amount(attribute="total")
    currency = fields.String()
    # created_at is already in the shop's time zone; the docs give no zone, only the format.
    date_created = fields.Function(lambda draft: draft.created_at.strftime(DATE_FORMAT))
    status = fields.String()
    customer_note = fields.String()
    billing = fields.Nested(BillingSchema, attribute="buyer")


class ItemSchema(Schema):
    """One entry of ``items`` from an ``InvoiceLine``; shipping, fee and rounding lines have
    no product and send ``product_id`` 0 (the field is an integer in the docs). e-Cont.md
    takes gross prices and whole quantities ([DOC]; the adapter's ``DraftRules`` refuse a
    fractional one before we get here)."""

    product_id = fields.Function(lambda line: line.product_id or 0)
    product_sku = fields.String(attribute="sku")
    product_name = fields.String(attribute="name")
    product_price = Amount(attribute="unit_price_gross")
    product_qnt = fields.Function(lambda line: int(line.quantity))
    product_unit = fields.String(attribute="unit")
    line_total = Amount(attribute="total_gross")


_ORDER = OrderSchema()
_ITEM = ItemSchema()


def render_invoice(draft: InvoiceDraft) -> dict[str, Any]:
    """``{"order": {...}, "items": {"1": {...}, ...}}`` for ``draft`` (no ``connect``)."""
    draft = _quantised(draft)
    return {
        "order": _ORDER.dump(draft),
        # items is a JSON object keyed "1", "2", ... in line order, not an array ([DOC])
        "items": {str(number): _ITEM.dump(line)
                  for number, line in enumerate(draft.lines, start=1)},
    }


def _quantised(draft: InvoiceDraft) -> InvoiceDraft:
    """Every amount with exactly ``draft.decimals`` places, so "100" becomes "100.00" in a
    2-decimal order and "100.00" becomes "100" in a 0-decimal one."""
    places = draft.decimals

    def line(item: InvoiceLine) -> InvoiceLine:
        return replace(item, unit_price_gross=money.quantize(item.unit_price_gross, places),
                       total_gross=money.quantize(item.total_gross, places))

    return replace(draft, total=money.quantize(draft.total, places),
                   lines=tuple(line(item) for item in draft.lines))
