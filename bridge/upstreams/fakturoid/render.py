"""An ``InvoiceDraft`` as the body of Fakturoid's subject (contact) and invoice, and a refund
as a correction document.

The payload the bridge stores on the sync row (and shows operators) is::

    {"subject": {"custom_id": "shop:customer:57", "name": ..., "email": ..., ...},
     "invoice": {"custom_id": "shop:1203", "document_type": "invoice", "order_number": ...,
                 "currency": "CZK", "vat_price_mode": "without_vat", "payment_method": ...,
                 "client_name": ..., "lines": [{"name", "quantity", "unit_name",
                 "unit_price", "vat_rate"}, ...]}}

The adapter finds or creates the subject and adds its ``subject_id``. Amounts are strings
(never floats), exactly as the draft has them.

Prices: with gross prices (``from_total_with_vat``) a line's unit price is the draft's gross
unit price, and the draft splits lines so that price x quantity is the line's total exactly,
so the invoice adds up to the order whatever VAT Fakturoid takes out of it. With net prices
(``without_vat``) Fakturoid adds VAT per line (``assumptions.line_totals``); when that would
miss the order's total by rounding (tax rounded at subtotal level, a split line), a VAT-free
rounding line carries the difference, and when by more, the invoice is written with gross
prices and its private note says why -- the buyer's total is what matters.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.errors import MappingError
from bridge.mapping import money
from bridge.mapping.draft import Buyer, InvoiceDraft, InvoiceLine, LineKind
from bridge.upstreams.fakturoid import assumptions as fak
from bridge.upstreams.fakturoid.settings import FakturoidSettings

#: a private note longer than this is cut (it only explains; Fakturoid's limit is unknown)
MAX_NOTE = 1000
_DEFAULT_NAMES = {LineKind.PRODUCT: "Item", LineKind.SHIPPING: "Shipping",
                  LineKind.FEE: "Fee", LineKind.ROUNDING: "Rounding",
                  LineKind.ADJUSTMENT: "Adjustment"}
_GROSS_FALLBACK_NOTE = ("Prices with VAT: Fakturoid's VAT per line on the net prices would "
                        "miss the order's total by more than rounding.")


def render_invoice(draft: InvoiceDraft, settings: FakturoidSettings) -> dict[str, Any]:
    """``{"subject": ..., "invoice": ...}`` for ``draft``; ``MappingError`` names every
    field Fakturoid cannot take."""
    errors: dict[str, list[str]] = {}
    if draft.decimals > fak.AMOUNT_PLACES:
        errors["currency"] = [f"{draft.currency} has {draft.decimals} decimal places; "
                              f"Fakturoid keeps amounts to {fak.AMOUNT_PLACES}"]
    exchange_rate = _exchange_rate(draft.currency, settings, errors)
    for number, line in enumerate(draft.lines, start=1):
        if line.vat_rate is None and line.kind in (LineKind.PRODUCT, LineKind.SHIPPING,
                                                   LineKind.FEE) and not line.total_tax.is_zero():
            errors[f"lines[{number}].vat_rate"] = [
                f"{line.name!r} is taxed ({line.total_tax}) but the order does not say at which"
                " rate (its tax_lines carry no rate_percent); Fakturoid needs the VAT rate of "
                "every line"]
    if errors:
        raise MappingError(errors)

    notes = list(draft.notes)
    mode = _price_mode(draft, settings.vat_price_mode)
    lines = _net_lines(draft) if mode == fak.PRICE_WITHOUT_VAT else None
    if lines is None:
        if mode == fak.PRICE_WITHOUT_VAT:
            notes.append(_GROSS_FALLBACK_NOTE)
        mode = fak.PRICE_WITH_VAT
        lines = [_line(line, mode) for line in draft.lines]
    if invoice_total(lines, mode) != draft.total:
        raise MappingError({"total": [f"the lines would add up to {invoice_total(lines, mode)} "
                                      f"at Fakturoid, not the order's {draft.total}"]})

    invoice: dict[str, Any] = {
        "custom_id": fak.invoice_key(draft.shop, draft.order_id),
        "document_type": fak.DOCUMENT_INVOICE,
        "order_number": draft.order_number,
        "currency": draft.currency,
        "vat_price_mode": mode,
        **_client(draft.buyer, draft.order_number),
    }
    if exchange_rate is not None:
        invoice["exchange_rate"] = f"{exchange_rate:f}"
    invoice.update(_payment_method(draft, settings))
    if settings.language:
        invoice["language"] = settings.language
    if settings.due is not None:
        invoice["due"] = settings.due
    if notes:
        invoice["private_note"] = "\n".join(notes)[:MAX_NOTE]
    invoice["lines"] = lines
    return {"subject": _subject(draft), "invoice": invoice}


def invoice_total(lines: list[dict[str, Any]], mode: str) -> Decimal:
    """What Fakturoid will make the invoice's total with VAT (``assumptions.line_totals``)."""
    return sum((fak.line_totals(Decimal(line["unit_price"]), Decimal(line["quantity"]),
                                Decimal(line["vat_rate"]), mode)[2] for line in lines),
               Decimal(0))


def _price_mode(draft: InvoiceDraft, configured: str) -> str:
    if configured == "with_vat" or (configured == "auto" and draft.prices_include_tax):
        return fak.PRICE_WITH_VAT
    return fak.PRICE_WITHOUT_VAT


def _net_lines(draft: InvoiceDraft) -> list[dict[str, Any]] | None:
    """The lines with net prices, and -- when Fakturoid's VAT per line would miss the
    order's total by rounding (tax rounded at subtotal level, a split line, a currency
    without decimals) -- one VAT-free rounding line with the difference, as Fakturoid's own
    ``rounding_adjustment`` is. The draft's rounding line is replaced by it. None when the
    difference is more than rounding (one minor unit per line): gross prices then."""
    lines = [_line(line, fak.PRICE_WITHOUT_VAT) for line in draft.lines
             if line.kind != LineKind.ROUNDING]
    difference = draft.total - invoice_total(lines, fak.PRICE_WITHOUT_VAT)
    if difference.is_zero():
        return lines
    if abs(difference) > money.quantum(draft.decimals) * len(draft.lines):
        return None
    name = next((line.name for line in draft.lines if line.kind == LineKind.ROUNDING),
                _DEFAULT_NAMES[LineKind.ROUNDING])
    unit = draft.lines[0].unit if draft.lines else ""
    lines.append({"name": name, "quantity": "1", "unit_name": unit,
                  "unit_price": _number(difference), "vat_rate": "0"})
    return lines


def _exchange_rate(currency: str, settings: FakturoidSettings,
                   errors: dict[str, list[str]]) -> Decimal | None:
    """[DOC] ``exchange_rate`` is required when the invoice's currency is not the account's."""
    if currency == settings.account_currency:
        return None
    rate = settings.exchange_rate(currency)
    if rate is None:
        errors.setdefault("currency", []).append(
            f"{currency} is not the Fakturoid account's currency ({settings.account_currency}) "
            f"and exchange_rates has no rate for it; Fakturoid requires one")
    return rate


def _line(line: InvoiceLine, mode: str) -> dict[str, Any]:
    price = line.unit_price_gross if mode == fak.PRICE_WITH_VAT else line.unit_price_net
    return {
        "name": line.name or _DEFAULT_NAMES[line.kind],
        "quantity": _number(line.quantity),
        "unit_name": line.unit,
        "unit_price": _number(price),
        # rounding and adjustment lines carry no VAT: they only make the total the order's
        "vat_rate": _rate(line.vat_rate if line.vat_rate is not None else Decimal(0)),
    }


def _number(value: Decimal) -> str:
    """A Decimal as plain text: ``Decimal("20")`` -> "20", ``Decimal("33.30")`` -> "33.30"
    (trailing zeros of amounts kept, no exponent)."""
    if value == value.to_integral_value() and value.as_tuple().exponent > 0:  # type: ignore[operator]
        value = value.quantize(Decimal(1))
    return f"{value:f}"


def _rate(rate: Decimal) -> str:
    """A VAT rate without trailing zeros: "21", "10.5"."""
    return _number(rate.normalize())


def _person(buyer: Buyer) -> str:
    return " ".join(part for part in (buyer.first_name, buyer.last_name) if part)


def _name(buyer: Buyer, order_number: str) -> str:
    """[DOC] A subject needs a ``name``: the company, else the person, else the e-mail."""
    return (buyer.company or _person(buyer) or buyer.email
            or f"Customer of order {order_number}")


def _street(buyer: Buyer) -> str:
    return ", ".join(part for part in (buyer.address_1, buyer.address_2) if part)


def _subject(draft: InvoiceDraft) -> dict[str, Any]:
    buyer = draft.buyer
    subject = {
        "custom_id": fak.subject_key(draft.shop, draft.customer_id, draft.order_id),
        "name": _name(buyer, draft.order_number),
        "full_name": _person(buyer) if buyer.company else "",
        "email": buyer.email,
        "phone": buyer.phone,
        "street": _street(buyer),
        "city": buyer.city,
        "zip": buyer.postcode,
        "country": buyer.country,
        "registration_no": buyer.company_id,
        "vat_no": buyer.vat_id,
    }
    return {key: value for key, value in subject.items() if value}


def _client(buyer: Buyer, order_number: str) -> dict[str, Any]:
    """The buyer as the order has it, on the invoice itself: the document keeps it even if
    the subject changes, and a customer who once bought as a company does not lend the
    company's numbers to a later private purchase (hence the empty strings)."""
    client = {
        "client_name": _name(buyer, order_number),
        "client_street": _street(buyer),
        "client_city": buyer.city,
        "client_zip": buyer.postcode,
        "client_registration_no": buyer.company_id,
        "client_vat_no": buyer.vat_id,
    }
    if buyer.country:
        client["client_country"] = buyer.country
    return client


def _payment_method(draft: InvoiceDraft, settings: FakturoidSettings) -> dict[str, str]:
    method = settings.payment_method(draft.payment_method)
    if not method:
        return {}  # the account's default
    if method == "custom":
        label = (draft.payment_method_title or draft.payment_method or "Other").strip()
        return {"payment_method": method,
                "custom_payment_method": label[:fak.CUSTOM_PAYMENT_METHOD_MAX]}
    return {"payment_method": method}


# --- corrections ------------------------------------------------------------------------


def render_correction(*, key: str, invoice_id: str, amount: Decimal, reason: str,
                      draft: InvoiceDraft, original: dict[str, Any],
                      settings: FakturoidSettings) -> dict[str, Any]:
    """A correction document for a refund of ``amount`` (positive) of the invoice
    ``original`` (Fakturoid's JSON of it). A full refund repeats every line with the
    opposite sign; a partial one is shared among the invoice's VAT rates in proportion to
    their totals, so the VAT given back is the VAT charged. Gross prices either way: the
    amount is what the buyer got back."""
    if amount == draft.total:
        lines = [{**_line(line, fak.PRICE_WITH_VAT),
                  "unit_price": _number(fak.CORRECTION_SIGN * line.unit_price_gross)}
                 for line in draft.lines]
    else:
        lines = _shared_lines(amount, reason, draft)
    body: dict[str, Any] = {
        "custom_id": key,
        "document_type": fak.DOCUMENT_CORRECTION,
        "correction_id": int(invoice_id),
        "subject_id": original.get("subject_id"),
        "order_number": draft.order_number,
        "currency": draft.currency,
        "vat_price_mode": fak.PRICE_WITH_VAT,
        "lines": lines,
    }
    if draft.currency != settings.account_currency and original.get("exchange_rate"):
        body["exchange_rate"] = str(original["exchange_rate"])  # the corrected invoice's rate
    if settings.language:
        body["language"] = settings.language
    if reason:
        body["private_note"] = reason[:MAX_NOTE]
    return body


def _shared_lines(amount: Decimal, reason: str, draft: InvoiceDraft) -> list[dict[str, Any]]:
    by_rate: dict[Decimal, Decimal] = {}
    for line in draft.lines:
        rate = line.vat_rate if line.vat_rate is not None else Decimal(0)
        by_rate[rate] = by_rate.get(rate, Decimal(0)) + line.total_gross
    groups = [(rate, gross) for rate, gross in sorted(by_rate.items()) if not gross.is_zero()]
    if not groups or draft.total.is_zero():
        groups = [(Decimal(0), Decimal(1))]
    whole = sum((gross for _, gross in groups), Decimal(0))
    name = f"Refund: {reason}" if reason else f"Refund, order {draft.order_number}"
    lines, given = [], Decimal(0)
    for index, (rate, gross) in enumerate(groups):
        last = index == len(groups) - 1
        share = amount - given if last else money.split_proportionally(
            gross, whole, amount, draft.decimals)
        given += share
        label = f"{name} (VAT {_rate(rate)} %)" if len(groups) > 1 else name
        lines.append({"name": label[:250], "quantity": "1", "unit_name": "",
                      "unit_price": _number(fak.CORRECTION_SIGN * share),
                      "vat_rate": _rate(rate)})
    return lines
