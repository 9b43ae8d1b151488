"""An ``InvoiceDraft`` as what the FACTURAgem adapter sends (``assumptions.py`` has every field
name and why)::

    {"reference": "shop:1203",
     "client": {"name": "Agroprim Nord SRL", "nif": "B12345678", "email": "...", ...},
     "invoice": {"notes": "Ref. pedido: shop:1203",
                 "prices_include_tax": true,
                 "lines": [{"description": "...", "quantity": "10", "price": "513.00",
                            "iva_percent": "21"}, ...]}}

``reference`` is ours (the key ``find_invoice`` looks for; never sent as a field of its
own); ``client`` is found or created before the invoice, whose ``client_id`` the adapter
adds. Amounts are decimal strings, never floats; empty fields are left out (what we do not
mean to set, we do not send).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.errors import MappingError
from bridge.mapping.draft import Buyer, InvoiceDraft, InvoiceLine, LineKind
from bridge.upstreams.facturagem import assumptions
from bridge.upstreams.facturagem.settings import FacturagemSettings

#: lines without a VAT rate of their own: the tax-rounding and capped-discount lines
_UNTAXED_KINDS = (LineKind.ROUNDING, LineKind.ADJUSTMENT)


def render_invoice(draft: InvoiceDraft, settings: FacturagemSettings) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if draft.decimals > assumptions.MAX_DECIMALS:
        errors["currency"] = [f"FACTURAgem computes amounts in cents; {draft.currency} has "
                              f"{draft.decimals} decimals"]
    lines = []
    for number, line in enumerate(draft.lines, start=1):
        if line.vat_rate is None and line.kind not in _UNTAXED_KINDS:
            errors[f"lines[{number}]"] = [
                f"{line.name!r}: the shop did not say its VAT rate (no rate_percent in the "
                "order's tax_lines); FACTURAgem needs the IVA of every line"]
            continue
        lines.append(_line(line, settings.line_prices))
    if errors:
        raise MappingError(errors)
    reference = assumptions.order_reference(draft.shop, draft.order_id)
    invoice: dict[str, Any] = {"notes": _notes(draft, reference)}
    if draft.currency != settings.account_currency:
        invoice["currency"] = draft.currency
    if settings.line_prices == "gross":
        invoice["prices_include_tax"] = True
    invoice["lines"] = lines
    return {"reference": reference, "client": client_fields(draft.buyer), "invoice": invoice}


def client_fields(buyer: Buyer) -> dict[str, str]:
    """The client for ``buyer``: the company's name for a company, the person's otherwise;
    the tax id is the VAT number, else the company's registration number (a Spanish
    buyer's NIF/CIF, when the shop collects one)."""
    person = " ".join(part for part in (buyer.first_name, buyer.last_name) if part)
    address = ", ".join(part for part in (buyer.address_1, buyer.address_2) if part)
    fields = {
        "name": buyer.company or person or buyer.email,
        "nif": buyer.vat_id or buyer.company_id,
        "email": buyer.email,
        "phone": buyer.phone,
        "address": address,
        "city": buyer.city,
        "postal_code": buyer.postcode,
        "country": buyer.country,
    }
    return {name: value for name, value in fields.items() if value}


def _notes(draft: InvoiceDraft, reference: str) -> str:
    lines = [assumptions.reference_line(reference)]
    if draft.order_number != str(draft.order_id):
        lines.append(f"Pedido nº {draft.order_number}")
    return "\n".join(lines)


def _line(line: InvoiceLine, prices: str) -> dict[str, str]:
    if line.vat_rate is None:  # rounding or capped discount: an amount without tax
        price, rate = line.unit_price_gross, Decimal(0)
    else:
        price = line.unit_price_gross if prices == "gross" else line.unit_price_net
        rate = line.vat_rate
    return {"description": line.name, "quantity": plain(line.quantity),
            "price": f"{price:f}", "iva_percent": plain(rate)}


def plain(value: Decimal) -> str:
    """A quantity or a rate as plain text: ``Decimal("3")`` -> "3", ``21.00`` -> "21",
    ``1.500`` -> "1.5" (never an exponent)."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text
