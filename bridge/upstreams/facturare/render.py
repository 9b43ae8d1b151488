"""Rendering an ``InvoiceDraft`` as what the facturare.md adapter sends (no credentials: the
API key travels in a header).

The body is two requests' worth -- the customer to find or create, and the invoice for it::

    {"customer": {"name": "Agroprim Nord SRL", "email": "...", "type": "company",
                  "address1": "...", "city": "Bălți", "country": "MD", "tax_id": "1012600034562",
                  "metadata": {"invoice_bridge_customer": "3f9c...", "idno": "1012600034562"}},
     "invoice": {"currency": "mdl", "date": 1741970527, "purchase_order": "2002",
                 "items": [{"name": "...", "quantity": "10", "unit_cost": "427.50",
                            "taxes": [{"amount": "855.00", "rate": "20", "inclusive": false}]},
                           ...],
                 "metadata": {"invoice_bridge_order": "shop:2002"}}}

Field names and formats are assumptions (``assumptions.py``; docs/facturare.md). The rules:

- prices follow the shop: net unit costs with the VAT added on top when the shop enters
  prices without VAT, gross unit costs with the VAT inside ("inclusive") when it enters them
  with VAT. Either way the service's total -- its line amounts plus the taxes added on top --
  is the order's total exactly: each unit cost is chosen so that quantity x unit cost,
  rounded as the service rounds (``assumptions.line_amount``), is the line's total;
- every line with VAT carries it as a tax with its amount and, when the shop said, its rate;
- the customer carries a digest of its own details in its metadata: the adapter reuses a
  customer only when every detail matches, so an invoice never shows another order's buyer.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from bridge.errors import MappingError
from bridge.mapping import money
from bridge.mapping.draft import Buyer, InvoiceDraft, InvoiceLine
from bridge.upstreams.facturare import assumptions as facturare

#: how many places beyond the currency's a unit cost may carry to make price x quantity land
#: on the line's total (a fractional quantity, or a total that does not divide)
MAX_EXTRA_UNIT_PLACES = 6
CUSTOMER_DIGEST_LENGTH = 32


def render_payload(draft: InvoiceDraft) -> dict[str, Any]:
    """``{"customer": {...}, "invoice": {...}}`` for ``draft``. Raises ``MappingError`` when
    an amount has more decimals than facturare.md keeps for the currency."""
    _check_decimals(draft)
    return {"customer": render_customer(draft.buyer),
            "invoice": render_invoice(draft)}


def order_key(shop: str, order_id: int) -> str:
    """Our key for the invoice of an order (``metadata[invoice_bridge_order]``)."""
    return f"{shop}:{order_id}"


# --- the customer -----------------------------------------------------------------------


def render_customer(buyer: Buyer) -> dict[str, Any]:
    company = bool(buyer.company or buyer.idno or buyer.company_id or buyer.vat_id)
    person = " ".join(part for part in (buyer.first_name, buyer.last_name) if part)
    fields = {
        "name": buyer.company or person or buyer.email,
        "email": buyer.email,
        "type": "company" if company else "person",
        "address1": buyer.address_1,
        "address2": buyer.address_2,
        "city": buyer.city,
        "postal_code": buyer.postcode,
        "country": buyer.country,
        "phone": buyer.phone,
        # a Moldovan fiscal code first (IDNO for a company, IDNP for a person), else the VAT
        # number, else the registration number; every one of them also goes to metadata
        "tax_id": buyer.idno or buyer.idnp or buyer.vat_id or buyer.company_id,
    }
    customer: dict[str, Any] = {name: value for name, value in fields.items() if value}
    identifiers = {name: value for name, value in (
        ("idno", buyer.idno), ("idnp", buyer.idnp), ("vat_id", buyer.vat_id),
        ("company_id", buyer.company_id)) if value}
    digest = hashlib.sha256(json.dumps([customer, identifiers], sort_keys=True,
                                       ensure_ascii=False).encode()).hexdigest()
    customer["metadata"] = {facturare.CUSTOMER_KEY: digest[:CUSTOMER_DIGEST_LENGTH],
                            **identifiers}
    return customer


# --- the invoice ------------------------------------------------------------------------


def render_invoice(draft: InvoiceDraft) -> dict[str, Any]:
    currency = draft.currency.lower()
    invoice: dict[str, Any] = {
        "currency": currency,
        "date": int(draft.created_at.timestamp()),
        "purchase_order": draft.order_number,
        "items": [_item(line, currency, draft.prices_include_tax) for line in draft.lines],
        "metadata": {facturare.ORDER_KEY: order_key(draft.shop, draft.order_id)},
    }
    if draft.customer_note:
        invoice["notes"] = draft.customer_note
    return invoice


def _item(line: InvoiceLine, currency: str, prices_include_tax: bool) -> dict[str, Any]:
    total = line.total_gross if prices_include_tax else line.total_net
    item: dict[str, Any] = {"name": line.name}
    unit_cost = unit_cost_for(total, line.quantity, currency)
    if unit_cost is None:
        # No unit cost of reasonable precision lands on the total (a huge fractional
        # quantity): one unit at the line's total, the real quantity in the name.
        item["name"] = f"{line.name} ({_number(line.quantity)} {line.unit})"
        item["quantity"], item["unit_cost"] = "1", facturare.decimal_text(total)
    else:
        item["quantity"] = _number(line.quantity)
        item["unit_cost"] = facturare.decimal_text(unit_cost)
    tax = _tax(line, prices_include_tax)
    if tax is not None:
        item["taxes"] = [tax]
    return item


def _tax(line: InvoiceLine, inclusive: bool) -> dict[str, Any] | None:
    """The line's VAT, or None for an untaxed line (no tax, and no rate other than 0)."""
    rate = line.vat_rate
    if line.total_tax.is_zero() and (rate is None or rate.is_zero()):
        return None
    tax: dict[str, Any] = {"amount": facturare.decimal_text(line.total_tax)}
    if rate is not None:
        tax["rate"] = _number(rate)
    tax["inclusive"] = inclusive
    return tax


def unit_cost_for(total: Decimal, quantity: Decimal, currency: str) -> Decimal | None:
    """The unit cost with the fewest places (from the currency's own) whose line amount, as
    the service computes it, is ``total``; None if even ``MAX_EXTRA_UNIT_PLACES`` more do
    not get there."""
    places = facturare.currency_decimals(currency)
    for extra in range(MAX_EXTRA_UNIT_PLACES + 1):
        unit_cost = money.quantize(total / quantity, places + extra)
        if facturare.line_amount(quantity, unit_cost, currency) == total:
            return unit_cost
    return None


def _number(value: Decimal) -> str:
    """A quantity or a rate as plain text without trailing zeros: 3, 1.5, 20."""
    return f"{value.normalize():f}"


def _check_decimals(draft: InvoiceDraft) -> None:
    places = facturare.currency_decimals(draft.currency)
    amounts = [("total", draft.total)] + [
        (f"lines[{index}]", amount)
        for index, line in enumerate(draft.lines)
        for amount in (line.total_gross, line.total_net)]
    too_fine = sorted({path for path, amount in amounts if not money.fits(amount, places)})
    if too_fine:
        reason = (f"facturare.md keeps {draft.currency} amounts to {places} decimals "
                  "(ISO 4217); this order's amounts have more")
        raise MappingError({path: [reason] for path in too_fine})
