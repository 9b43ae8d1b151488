"""``map_order``: a WooCommerce v3 order -> an upstream-neutral ``InvoiceDraft``.

The rules (decided for the project; the reasons are in the comments where they apply):

1. Every WooCommerce line item, then every shipping line, then every fee line becomes an
   invoice line with the *gross* total ``total + total_tax``. Zero-total lines are kept.
2. A line whose gross total does not divide by its quantity is split in two so that
   price x quantity stays exact (``money.split_total``).
3. Lines keep that order; a rounding line, if any, comes last.
4. If the lines miss the order total by at most one minor unit per WooCommerce line (tax
   rounded at subtotal level), a "rounding" line carries the difference; more is an error --
   except when WooCommerce capped a negative total at 0: an "adjustment" line then brings
   the lines back to 0.
5. Every amount is quantised to the decimals of the order's ``total`` string.
6. The buyer comes from ``billing``; IDNO/IDNP from configurable ``meta_data`` keys.
7. ``created_at`` is ``date_created_gmt`` in the shop's configured time zone.
8. A line's VAT rate is the sum of the ``rate_percent`` of the tax rates that taxed it (its
   ``taxes`` with a non-zero total, looked up in ``tax_lines``); 0 for an untaxed line;
   unknown (None) when the shop does not say.
9. What an upstream cannot take (``DraftRules``: a required e-mail, whole quantities) is
   checked here, with everything else, so an order's problems are reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.config.model import MappingSettings, ShopSettings
from bridge.errors import MappingError
from bridge.mapping import fiscal, money
from bridge.mapping.draft import (
    NO_RULES,
    UNIT_PRICE_EXTRA_PLACES,
    Buyer,
    DraftRules,
    InvoiceDraft,
    InvoiceLine,
    LineKind,
    Refund,
)
from bridge.mapping.woocommerce import WooOrder, load_order, read_meta

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class _Source:
    """One WooCommerce line (item, shipping or fee) before splitting."""

    kind: LineKind
    name: str
    quantity: Decimal
    net: Decimal
    tax: Decimal
    vat_rate: Decimal | None
    sku: str = ""
    product_id: int | None = None
    source_id: int | None = None
    #: where it came from, for error messages ("line_items[2]")
    path: str = ""

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def map_order(data: Mapping[str, Any], shop: ShopSettings,
              rules: DraftRules = NO_RULES) -> InvoiceDraft:
    """Map one order; ``MappingError`` names every field that stops it (all at once),
    including what ``rules`` (the shop's upstream) cannot take."""
    settings = shop.mapping
    errors: Errors = {}
    order: WooOrder | None = None
    try:
        order = load_order(data)
    except MappingError as exc:
        errors.update(exc.errors)
    # Fiscal codes are looked up even when the rest failed, so every problem is reported.
    notes: list[str] = []
    idno = _code(data, settings.idno_meta_keys, fiscal.normalise_idno, settings, errors, notes)
    idnp = _code(data, settings.idnp_meta_keys, fiscal.normalise_code, settings, errors, notes)
    company_id = _code(data, settings.company_id_meta_keys, fiscal.normalise_tax_id, settings,
                       errors, notes)
    vat_id = _code(data, settings.vat_id_meta_keys, fiscal.normalise_vat_id, settings, errors,
                   notes)
    sources = _sources(order, settings) if order is not None else []
    _check_rules(rules, data, sources, errors)
    if order is None or errors:
        raise MappingError(errors)
    if not sources:
        raise MappingError({"line_items": ["the order has no items, shipping or fees to invoice"]})
    lines = _lines(sources, order.decimals, settings.product_unit)
    rounding, rounding_notes = _rounding(lines, sources, order, settings)

    draft = InvoiceDraft(
        shop=shop.id,
        order_id=order.id,
        order_number=order.number or str(order.id),
        status=order.status,
        currency=order.currency,
        decimals=order.decimals,
        total=order.total,
        created_at=order.date_created_gmt.astimezone(settings.zone),
        buyer=_buyer(order, idno=idno, idnp=idnp, company_id=company_id, vat_id=vat_id),
        lines=tuple(lines + rounding),
        prices_include_tax=order.prices_include_tax,
        customer_note=order.customer_note,
        notes=tuple(notes + rounding_notes),
        payment_method=order.payment_method,
        payment_method_title=order.payment_method_title,
        paid_at=order.date_paid_gmt,
        refunds=tuple(Refund(refund_id, money.quantize(amount, order.decimals), reason)
                      for refund_id, amount, reason in order.refunds),
        customer_id=order.customer_id,
    )
    draft.check()
    return draft


def _check_rules(rules: DraftRules, data: Mapping[str, Any], sources: list[_Source],
                 errors: Errors) -> None:
    """What the upstream cannot take. Required fields are looked at in the raw order, so
    they are reported even when the rest of it could not be read."""
    for path, why in rules.required.items():
        part, _, name = path.partition(".")
        holder = data.get(part) if isinstance(data, Mapping) else None
        value = holder.get(name) if isinstance(holder, Mapping) else None
        if path not in errors and (value is None or (isinstance(value, str)
                                                     and not value.strip())):
            errors[path] = [f"required: {why}"]
    if rules.whole_quantities:
        for source in sources:
            if source.quantity != source.quantity.to_integral_value():
                errors.setdefault(f"{source.path}.quantity", []).append(
                    f"must be a whole number for this invoicing service, got {source.quantity}")


def _code(data: Mapping[str, Any], keys: tuple[str, ...], normalise: Callable[[Any], str],
          settings: MappingSettings, errors: dict[str, list[str]], notes: list[str]) -> str:
    """The code under ``keys``, or "" after recording why not. A code whose only fault is its
    check digit is sent anyway, with a note, when the shop says ``fiscal_code_check = "warn"``:
    the shop knows better than a checksum whether its buyers' codes are real."""
    pairs = [(meta.key, meta.value) for meta in read_meta(data)]
    try:
        return fiscal.find_code(pairs, keys, normalise).code
    except fiscal.CodeError as exc:
        field = f"meta_data[{exc.key}]"
        if exc.well_formed and settings.fiscal_code_check == "warn":
            notes.append(f'{field}: {exc.reason}; sent as given (fiscal_code_check = "warn")')
            return exc.well_formed
        errors.setdefault(field, []).append(exc.reason)
        return ""


def _buyer(order: WooOrder, **codes: str) -> Buyer:
    b = order.billing
    return Buyer(
        email=b.email, first_name=b.first_name, last_name=b.last_name, company=b.company,
        phone=b.phone, address_1=b.address_1, address_2=b.address_2, city=b.city,
        postcode=b.postcode, country=b.country, **codes,
    )


def _sources(order: WooOrder, settings: MappingSettings) -> list[_Source]:
    """WooCommerce's line ``total`` is after discounts and net of tax -- even when the shop
    enters prices with tax -- so ``total + total_tax`` is what the buyer pays for the line.
    Coupons need no line of their own: their discount is already inside the item totals."""
    def rate(ids: tuple[int, ...] | None, tax: Decimal) -> Decimal | None:
        return _vat_rate(ids, tax, order.tax_rates)

    one = Decimal(1)
    items = [
        _Source(LineKind.PRODUCT, i.name, i.quantity, i.total, i.total_tax,
                rate(i.tax_rate_ids, i.total_tax), i.sku, i.product_id or None, i.id,
                f"line_items[{index}]")
        for index, i in enumerate(order.line_items)
    ]
    shipping = [
        _Source(LineKind.SHIPPING, s.method_title or settings.shipping_name, one, s.total,
                s.total_tax, rate(s.tax_rate_ids, s.total_tax), source_id=s.id,
                path=f"shipping_lines[{index}]")
        for index, s in enumerate(order.shipping_lines)
    ]
    fees = [_Source(LineKind.FEE, f.name, one, f.total, f.total_tax,
                    rate(f.tax_rate_ids, f.total_tax), source_id=f.id,
                    path=f"fee_lines[{index}]")
            for index, f in enumerate(order.fee_lines)]
    return items + shipping + fees


def _vat_rate(ids: tuple[int, ...] | None, tax: Decimal,
              rates: Mapping[int, Decimal | None]) -> Decimal | None:
    """The sum of the rates that taxed a line; 0 for an untaxed one; None if unknown."""
    if ids is None:
        return None
    if not ids:
        return Decimal(0) if tax.is_zero() else None  # taxed, but the shop did not say how
    found = [rates.get(rate_id) for rate_id in ids]
    if any(percent is None for percent in found):
        return None
    return sum((percent for percent in found if percent is not None), Decimal(0))


def _lines(sources: list[_Source], decimals: int, unit: str) -> list[InvoiceLine]:
    lines: list[InvoiceLine] = []
    for source in sources:
        for quantity, gross_price, gross, net in _parts(source, decimals):
            lines.append(InvoiceLine(
                kind=source.kind, name=source.name, quantity=quantity,
                unit_price_gross=gross_price,
                unit_price_net=_unit_price(net, quantity, decimals),
                total_gross=gross, total_net=net, vat_rate=source.vat_rate, unit=unit,
                sku=source.sku, product_id=source.product_id, source_id=source.source_id,
            ))
    return lines


def _parts(source: _Source, decimals: int) -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
    """(quantity, gross unit price, gross total, net total) of each invoice line a source
    line becomes: a whole quantity whose gross total does not divide is split so price x
    quantity stays exact (``money.split_total``); a fractional one stays one line whose unit
    price carries a few more places (its total is what the buyer pays)."""
    gross, net = money.quantize(source.gross, decimals), money.quantize(source.net, decimals)
    if source.quantity != source.quantity.to_integral_value():
        return [(source.quantity, _unit_price(gross, source.quantity, decimals), gross, net)]
    parts = money.split_total(gross, int(source.quantity), decimals)
    if len(parts) == 1:
        (count, price), = parts
        return [(Decimal(count), price, gross, net)]
    (first_count, first_price), (second_count, second_price) = parts
    first_gross = money.quantize(first_price * first_count, decimals)
    # the net total is shared by quantity; the last part takes the rest, so nets (and hence
    # taxes, gross - net) still add up to the source line's
    first_net = money.split_proportionally(Decimal(first_count), source.quantity, net, decimals)
    return [(Decimal(first_count), first_price, first_gross, first_net),
            (Decimal(second_count), second_price, gross - first_gross, net - first_net)]


def _unit_price(total: Decimal, quantity: Decimal, decimals: int) -> Decimal:
    """``total / quantity``, exact when it fits the currency's decimals, else with
    ``UNIT_PRICE_EXTRA_PLACES`` more."""
    exact = money.quantize(total / quantity, decimals)
    if exact * quantity == total:
        return exact
    return money.quantize(total / quantity, decimals + UNIT_PRICE_EXTRA_PLACES)


def _rounding(lines: list[InvoiceLine], sources: list[_Source], order: WooOrder,
              settings: MappingSettings) -> tuple[list[InvoiceLine], list[str]]:
    """WooCommerce can round tax at subtotal level ("Round tax at subtotal level"), so the
    per-line taxes may add up to a few minor units more or less than the order's tax. Each
    line can be off by at most half a unit, plus half a unit for the order total: we allow one
    unit per WooCommerce line and carry the difference on a line of its own, so the invoice
    adds up to exactly what the buyer is asked to pay. Anything larger is not rounding."""
    lines_sum = sum((line.total_gross for line in lines), Decimal(0))
    difference = order.total - lines_sum
    if difference.is_zero():
        return [], []
    if order.total.is_zero() and lines_sum < 0:
        return _capped_at_zero(lines, order, settings, lines_sum)
    tolerance = money.quantum(order.decimals) * len(sources)
    if abs(difference) > tolerance:
        raise MappingError({"total": [
            f"the order lines add up to {money.format_amount(lines_sum, order.decimals)} but "
            f"the order total is {money.format_amount(order.total, order.decimals)}; the "
            f"difference is more than tax rounding can explain ({len(sources)} minor units)"
        ]})
    amount = money.quantize(difference, order.decimals)
    line = InvoiceLine(
        kind=LineKind.ROUNDING, name=settings.rounding_name, quantity=Decimal(1),
        unit_price_gross=amount, total_gross=amount,
        # the difference comes from rounding tax, so it is tax, not goods
        unit_price_net=money.quantize(Decimal(0), order.decimals),
        total_net=money.quantize(Decimal(0), order.decimals), vat_rate=None,
        unit=settings.product_unit,
    )
    note = (f"added a rounding line of {money.format_amount(amount, order.decimals)}: the "
            f"WooCommerce lines add up to {money.format_amount(lines_sum, order.decimals)}, "
            f"the order total is {money.format_amount(order.total, order.decimals)}")
    return [line], [note]


def _capped_at_zero(lines: list[InvoiceLine], order: WooOrder, settings: MappingSettings,
                    lines_sum: Decimal) -> tuple[list[InvoiceLine], list[str]]:
    """WooCommerce never lets an order total go below zero: it caps negative fees and then
    clamps the cart total with ``max(0, ...)`` (WC_Cart_Totals::calculate_totals). When the
    tax on a negative fee still leaves the lines below zero, one explicit line brings them
    back to the 0 the buyer is asked to pay."""
    amount = money.quantize(-lines_sum, order.decimals)
    line = InvoiceLine(
        kind=LineKind.ADJUSTMENT, name=settings.adjustment_name, quantity=Decimal(1),
        unit_price_gross=amount, unit_price_net=amount, total_gross=amount, total_net=amount,
        vat_rate=None, unit=settings.product_unit,
    )
    note = (f"added a line of {money.format_amount(amount, order.decimals)}: the lines add up "
            f"to {money.format_amount(lines_sum, order.decimals)} but WooCommerce caps the "
            "order total at 0")
    return [line], [note]
