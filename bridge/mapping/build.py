"""``map_order``: a WooCommerce v3 order -> an upstream-neutral ``InvoiceDraft``.

The rules (decided for the project; the reasons are in the comments where they apply):

1. Every WooCommerce line item, then every shipping line, then every fee line becomes an
   invoice line with the *gross* total ``total + total_tax``. Zero-total lines are kept.
2. A line whose gross total does not divide by its quantity is split in two so that
   price x quantity stays exact (``money.split_total``).
3. Keys are "1", "2", ... in that order; a rounding line, if any, comes last.
4. If the lines miss the order total by at most one minor unit per WooCommerce line (tax
   rounded at subtotal level), a "rounding" line carries the difference; more is an error --
   except when WooCommerce capped a negative total at 0: an "adjustment" line then brings
   the lines back to 0.
5. Every amount is quantised to the decimals of the order's ``total`` string.
6. The buyer comes from ``billing``; IDNO/IDNP from configurable ``meta_data`` keys.
7. ``created_at`` is ``date_created_gmt`` in the shop's configured time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.config.model import MappingSettings, ShopSettings
from bridge.errors import MappingError
from bridge.mapping import fiscal, money
from bridge.mapping.draft import Buyer, InvoiceDraft, InvoiceLine, LineKind
from bridge.mapping.woocommerce import WooOrder, load_order, read_meta


@dataclass(frozen=True)
class _Source:
    """One WooCommerce line (item, shipping or fee) before splitting."""

    kind: LineKind
    name: str
    quantity: int
    net: Decimal
    tax: Decimal
    sku: str = ""
    product_id: int | None = None
    source_id: int | None = None

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def map_order(data: Mapping[str, Any], shop: ShopSettings) -> InvoiceDraft:
    """Map one order; ``MappingError`` names every field that stops it (all at once)."""
    settings = shop.mapping
    errors: dict[str, list[str]] = {}
    order: WooOrder | None = None
    try:
        order = load_order(data)
    except MappingError as exc:
        errors.update(exc.errors)
    # Fiscal codes are looked up even when the rest failed, so every problem is reported.
    notes: list[str] = []
    idno = _code(data, settings.idno_meta_keys, fiscal.normalise_idno, settings, errors, notes)
    idnp = _code(data, settings.idnp_meta_keys, fiscal.normalise_code, settings, errors, notes)
    if order is None or errors:
        raise MappingError(errors)

    sources = _sources(order, settings)
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
        buyer=_buyer(order, idno, idnp),
        lines=tuple(lines + rounding),
        customer_note=order.customer_note,
        notes=tuple(notes + rounding_notes),
    )
    # The invariants are ours to keep; a failure here is a bug in this module, and it is
    # better to stop than to send an invoice whose lines do not add up.
    draft.check()
    return draft


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


def _buyer(order: WooOrder, idno: str, idnp: str) -> Buyer:
    b = order.billing
    return Buyer(
        email=b.email, first_name=b.first_name, last_name=b.last_name, company=b.company,
        phone=b.phone, address_1=b.address_1, address_2=b.address_2, city=b.city,
        postcode=b.postcode, country=b.country, idno=idno, idnp=idnp,
    )


def _sources(order: WooOrder, settings: MappingSettings) -> list[_Source]:
    """WooCommerce's line ``total`` is after discounts and net of tax -- even when the shop
    enters prices with tax -- so ``total + total_tax`` is what the buyer pays for the line.
    Coupons need no line of their own: their discount is already inside the item totals."""
    items = [
        _Source("product", i.name, i.quantity, i.total, i.total_tax, i.sku,
                i.product_id or None, i.id)
        for i in order.line_items
    ]
    shipping = [
        _Source("shipping", s.method_title or settings.shipping_name, 1, s.total, s.total_tax,
                source_id=s.id)
        for s in order.shipping_lines
    ]
    fees = [_Source("fee", f.name, 1, f.total, f.total_tax, source_id=f.id)
            for f in order.fee_lines]
    return items + shipping + fees


def _lines(sources: list[_Source], decimals: int, unit: str) -> list[InvoiceLine]:
    lines: list[InvoiceLine] = []
    for source in sources:
        parts = money.split_total(source.gross, source.quantity, decimals)
        nets = _split_net(source, parts, decimals)
        for (quantity, price), net in zip(parts, nets, strict=True):
            total = money.quantize(price * quantity, decimals)
            lines.append(InvoiceLine(
                key=str(len(lines) + 1), kind=source.kind, name=source.name,
                quantity=quantity, unit_price=price, total=total,
                net_total=net, tax_total=total - net,
                sku=source.sku, product_id=source.product_id, unit=unit,
                source_id=source.source_id,
            ))
    return lines


def _split_net(source: _Source, parts: list[tuple[int, Decimal]], decimals: int) -> list[Decimal]:
    """Share the source line's net total between its parts by quantity; the last part takes
    the rest, so the nets (and hence the taxes, total - net) still add up to the source's."""
    net = money.quantize(source.net, decimals)
    if len(parts) == 1:
        return [net]
    first = money.split_proportionally(
        Decimal(parts[0][0]), Decimal(source.quantity), net, decimals
    )
    return [first, net - first]


def _rounding(lines: list[InvoiceLine], sources: list[_Source], order: WooOrder,
              settings: MappingSettings) -> tuple[list[InvoiceLine], list[str]]:
    """WooCommerce can round tax at subtotal level ("Round tax at subtotal level"), so the
    per-line taxes may add up to a few minor units more or less than the order's tax. Each
    line can be off by at most half a unit, plus half a unit for the order total: we allow one
    unit per WooCommerce line and carry the difference on a line of its own, so the invoice
    adds up to exactly what the buyer is asked to pay. Anything larger is not rounding."""
    lines_sum = sum((line.total for line in lines), Decimal(0))
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
        key=str(len(lines) + 1), kind="rounding", name=settings.rounding_name, quantity=1,
        unit_price=amount, total=amount,
        # the difference comes from rounding tax, so it is tax, not goods
        net_total=money.quantize(Decimal(0), order.decimals), tax_total=amount,
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
        key=str(len(lines) + 1), kind="adjustment", name=settings.adjustment_name, quantity=1,
        unit_price=amount, total=amount, net_total=amount,
        tax_total=money.quantize(Decimal(0), order.decimals), unit=settings.product_unit,
    )
    note = (f"added a line of {money.format_amount(amount, order.decimals)}: the lines add up "
            f"to {money.format_amount(lines_sum, order.decimals)} but WooCommerce caps the "
            "order total at 0")
    return [line], [note]
