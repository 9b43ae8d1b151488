"""Reading a WooCommerce REST API v3 order (the ``order.*`` webhook payload) into typed data.

Only the parts the invoice needs are read; everything else -- and any field a newer
WooCommerce or a plugin adds -- is ignored (``unknown = EXCLUDE``), because the payload grows
with every release and an unknown field must never turn an order away.

What the payload looks like (docs/woocommerce.md section 4):

- order and line amounts are strings formatted to the shop's decimals (``"8377.20"``, or
  ``"17000000"`` in a 0-decimal shop); they are read as ``Decimal``, never float;
- ``*_gmt`` dates are UTC without an offset (``"2025-04-02T07:15:33"``);
- strings may be ``null``; names may carry HTML entities (``&ndash;``, ``&times;``).

Text is sanitised on the way in, so no upstream ever gets it: control characters (NUL, ESC,
...) and lone surrogates (``"\\ud800"`` is valid JSON but no character) are removed. Single-line
fields (names, address parts, SKUs) also turn tabs and line breaks into a space -- an invoice
line or an address has no room for them, and a space keeps the words apart; the customer
note is the buyer's own multi-line text, so it keeps its line breaks (``\\r\\n`` becomes
``\\n``) and tabs.

``load_order`` reads each part (order fields, billing, every line) separately so that one
bad line does not hide the errors of the others: the ``MappingError`` it raises names every
field that is wrong. ``read_snapshot_header`` is the lenient reader used before mapping.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from bridge.errors import MappingError
from bridge.mapping import fiscal, money
from bridge.mapping.draft import SnapshotHeader

MAX_QUANTITY = 10**9
#: a fractional quantity (plugins sell by weight or length) has at most this many places
MAX_QUANTITY_PLACES = 4
#: tax rates read per line or order; real orders have a handful
MAX_TAXES = 50
#: Order ids are BIGINT keys: 1 .. 2^63 - 1 (WooCommerce's are MySQL BIGINT UNSIGNED post ids,
#: far below this in practice; PHP's own int stops at 2^63 - 1 too).
MAX_ORDER_ID = 2**63 - 1
#: The longest order number and status a sync row keeps (its column sizes): WordPress keeps
#: ``post_status`` in a varchar(20); order numbers are whatever a plugin makes them.
MAX_ORDER_NUMBER = 64
MAX_STATUS = 32
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")
#: C0 controls but tab, line feed and carriage return; DEL; C1 controls; lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\r\n]+")


def single_line(text: str) -> str:
    """Control characters and lone surrogates removed; tabs and line breaks become one
    space; stripped."""
    return _LINE_BREAKS.sub(" ", _CONTROL.sub("", text)).strip()


def multi_line(text: str) -> str:
    """Control characters and lone surrogates removed; line breaks kept as ``\\n``;
    stripped."""
    return _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n").strip()

# --- typed results ---------------------------------------------------------------------


@dataclass(frozen=True)
class WooBilling:
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class WooLineItem:
    id: int | None
    name: str
    product_id: int
    variation_id: int
    quantity: Decimal
    sku: str
    #: after discounts, net of tax (even when the shop's prices include tax)
    total: Decimal
    total_tax: Decimal
    #: the tax rate ids that taxed this line (None: the shop's breakdown was unreadable)
    tax_rate_ids: tuple[int, ...] | None = ()


@dataclass(frozen=True)
class WooShippingLine:
    id: int | None
    method_title: str
    method_id: str
    total: Decimal
    total_tax: Decimal
    tax_rate_ids: tuple[int, ...] | None = ()


@dataclass(frozen=True)
class WooFeeLine:
    id: int | None
    name: str
    total: Decimal
    total_tax: Decimal
    tax_rate_ids: tuple[int, ...] | None = ()


@dataclass(frozen=True)
class WooMeta:
    key: str
    #: "mixed" in WooCommerce: string, number, bool, list or object
    value: Any


@dataclass(frozen=True)
class WooOrder:
    id: int
    number: str
    status: str
    currency: str
    total: Decimal
    #: the shop's decimals, read off the ``total`` string
    decimals: int
    date_created_gmt: datetime
    date_modified_gmt: datetime | None
    customer_note: str
    billing: WooBilling
    meta_data: tuple[WooMeta, ...]
    line_items: tuple[WooLineItem, ...]
    shipping_lines: tuple[WooShippingLine, ...]
    fee_lines: tuple[WooFeeLine, ...]
    #: the shop enters prices with tax (``prices_include_tax``)
    prices_include_tax: bool = False
    #: tax rate id -> its rate in percent, from ``tax_lines`` (None where not given)
    tax_rates: Mapping[int, Decimal | None] = field(default_factory=dict)
    payment_method: str = ""
    payment_method_title: str = ""
    date_paid_gmt: datetime | None = None
    #: (refund id, positive amount, reason) from ``refunds``
    refunds: tuple[tuple[int, Decimal, str], ...] = ()
    #: the WooCommerce customer (user) id; 0 for a guest
    customer_id: int = 0


# --- fields ------------------------------------------------------------------------------


class Text(fields.Field[str]):
    """A single-line string; ``null`` and missing read as ``""`` (WooCommerce sends null for
    unset strings, e.g. ``sku`` of a deleted product). Numbers are accepted as their text (a
    postcode some plugin stored as a number); lists, objects and booleans are errors.
    Sanitised (see the module's docstring)."""

    default_error_messages = {"invalid": "must be a string", "required": "required"}

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs.get("required"):
            kwargs.setdefault("load_default", "")
        super().__init__(**kwargs)

    def deserialize(self, value: Any, attr: str | None = None,
                    data: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return super().deserialize("" if value is None else value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise self.make_error("invalid")
        return self.clean(str(value))

    def clean(self, value: str) -> str:
        return single_line(value)


class Note(Text):
    """Free text on several lines (the customer note): line breaks are kept."""

    def clean(self, value: str) -> str:
        return multi_line(value)


class Name(Text):
    """A product, shipping or fee name: HTML entities decoded (``&ndash;`` -> an en dash) and
    whitespace stripped, because WooCommerce stores names entity-encoded in places. Sanitised
    after decoding, so ``&#10;`` cannot bring a line break back."""

    def clean(self, value: str) -> str:
        return single_line(html.unescape(value))


class Checked(Text):
    """A string run through one of the ``fiscal.normalise_*`` functions."""

    def __init__(self, normalise: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.normalise = normalise

    def clean(self, value: str) -> str:
        try:
            return str(self.normalise(single_line(value)))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Amount(fields.Field[Decimal]):
    """Money as ``Decimal``: a formatted string, or a JSON number for leniency."""

    default_error_messages = {"required": "required", "null": "required"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        try:
            return money.parse_amount(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class FormattedTotal(Amount):
    """The order ``total``: must be the formatted string, because the shop's decimals are
    read from it (a JSON number would lose trailing zeros: 8377.20 -> 8377.2)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str):
            raise ValidationError(
                f"must be a string formatted to the shop's decimals, got {value!r}"
            )
        amount = super()._deserialize(value, attr, data, **kwargs)
        try:
            money.decimals_of(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if amount < 0:
            raise ValidationError(f"must not be negative, got {value!r}")
        return amount


class WholeNumber(fields.Field[int]):
    """An integer; ``2.0`` and ``"2"`` are accepted, ``1.5`` is not (marshmallow's lenient
    Integer would truncate it silently, and e-Cont.md quantities are integers)."""

    default_error_messages = {"required": "required", "null": "required"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _INTEGER.match(value.strip()):
            number = int(value.strip())
        if number is None or abs(number) > MAX_ORDER_ID:  # ids and counts fit a BIGINT
            raise ValidationError(f"must be a whole number, got {_show(value)}")
        return number


class Quantity(fields.Field[Decimal]):
    """A line quantity as ``Decimal``: whole in WooCommerce core, fractional with some
    plugins; ASCII digits only, more than 0, at most ``MAX_QUANTITY``, at most
    ``MAX_QUANTITY_PLACES`` decimal places."""

    default_error_messages = {"required": "required", "null": "required"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        try:
            quantity = money.parse_amount(value)
        except ValueError:
            raise ValidationError(f"must be a number, got {_show(value)}") from None
        if quantity <= 0:
            raise ValidationError(f"must be more than 0, got {_show(value)}")
        if quantity > MAX_QUANTITY:
            raise ValidationError(f"must be at most {MAX_QUANTITY}, got {_show(value)}")
        if not money.fits(quantity, MAX_QUANTITY_PLACES):
            raise ValidationError(f"more than {MAX_QUANTITY_PLACES} decimal places: "
                                  f"{_show(value)}")
        return quantity.normalize() if quantity == quantity.to_integral_value() else quantity


class TaxRateIds(fields.Field[tuple[int, ...] | None]):
    """``taxes`` of a line: ``[{"id": rate id, "total": "855", ...}]`` -> the ids of the
    rates that taxed it (a non-zero total). Read leniently: an unreadable breakdown is None
    ("unknown"), never a reason to refuse the order -- only upstreams that need per-line
    VAT rates care, and they say so when rendering."""

    def _deserialize(self, value: Any, attr: str | None, data: Any,
                     **kwargs: Any) -> tuple[int, ...] | None:
        if value is None:
            return ()
        if not isinstance(value, list):
            return None
        ids: list[int] = []
        for entry in value[:MAX_TAXES]:
            if not isinstance(entry, Mapping):
                return None
            rate_id = entry.get("id")
            try:
                total = money.parse_amount(entry.get("total") or "0")
            except ValueError:
                return None
            if isinstance(rate_id, bool) or not isinstance(rate_id, int):
                return None
            if not total.is_zero():
                ids.append(rate_id)
        return tuple(ids)


class OrderId(fields.Field[int]):
    """The order id: a JSON integer from 1 to 2^63 - 1, as ``read_snapshot_header`` wants it."""

    default_error_messages = {"required": "required", "null": "required"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        return parse_order_id(value)


class GmtDateTime(fields.Field[datetime]):
    """A ``*_gmt`` date (UTC, no offset) as an aware UTC datetime."""

    default_error_messages = {"required": "required", "null": "required"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed = parse_gmt(value)
        if parsed is None:
            raise ValidationError(f"not a date-time (YYYY-MM-DDTHH:MM:SS, UTC), got {value!r}")
        return parsed


def parse_order_id(value: Any) -> int:
    """A JSON integer from 1 to 2^63 - 1. Strings are refused, even of digits: WooCommerce
    sends the id as a number, and a string one would need its own rules (``"١١٨٧"`` is
    digits to Python's ``int``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ORDER_ID:
        raise ValidationError(f"must be an integer from 1 to {MAX_ORDER_ID}, got {_show(value)}")
    return value


def _show(value: Any, limit: int = 40) -> str:
    """``repr`` for a message, shortened: a hostile value may be megabytes (or an integer of
    thousands of digits, which Python refuses to turn into text at all)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def parse_gmt(value: Any) -> datetime | None:
    """``"2025-04-02T07:15:33"`` (UTC) -> aware UTC datetime; None if unreadable. An offset,
    if a proxy or plugin added one, is honoured rather than assumed away."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- schemas -----------------------------------------------------------------------------


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class BillingSchema(_Lenient):
    email = Checked(fiscal.normalise_email)
    first_name = Text()
    last_name = Text()
    company = Text()
    address_1 = Text()
    address_2 = Text()
    city = Text()
    state = Text()
    postcode = Text()
    country = Checked(fiscal.normalise_country)
    phone = Text()

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> WooBilling:
        return WooBilling(**data)


class LineItemSchema(_Lenient):
    id = WholeNumber(load_default=None)
    name = Name(required=True, validate=validate.Length(min=1, error="must not be empty"))
    product_id = WholeNumber(load_default=0)
    variation_id = WholeNumber(load_default=0)
    quantity = Quantity(required=True)
    sku = Text()
    total = Amount(required=True)
    #: missing tax = untaxed line; the order-total check catches a real omission
    total_tax = Amount(load_default=Decimal(0))
    tax_rate_ids = TaxRateIds(data_key="taxes", load_default=())

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> WooLineItem:
        return WooLineItem(**data)


class ShippingLineSchema(_Lenient):
    id = WholeNumber(load_default=None)
    method_title = Name()
    method_id = Text()
    total = Amount(required=True)
    total_tax = Amount(load_default=Decimal(0))
    tax_rate_ids = TaxRateIds(data_key="taxes", load_default=())

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> WooShippingLine:
        return WooShippingLine(**data)


class FeeLineSchema(_Lenient):
    id = WholeNumber(load_default=None)
    name = Name(required=True, validate=validate.Length(min=1, error="must not be empty"))
    total = Amount(required=True)
    total_tax = Amount(load_default=Decimal(0))
    tax_rate_ids = TaxRateIds(data_key="taxes", load_default=())

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> WooFeeLine:
        return WooFeeLine(**data)


class OrderFieldsSchema(_Lenient):
    """The order's own (non-nested) fields; nested parts are read by their own schemas."""

    id = OrderId(required=True)
    number = Text(validate=validate.Length(
        max=MAX_ORDER_NUMBER, error="longer than {max} characters"))
    status = Text(validate=validate.Length(max=MAX_STATUS, error="longer than {max} characters"))
    currency = Checked(fiscal.normalise_currency, required=True)
    total = FormattedTotal(required=True)
    date_created_gmt = GmtDateTime(required=True)
    customer_note = Note()
    payment_method = Text()
    payment_method_title = Name()


# --- loading -----------------------------------------------------------------------------

Errors = dict[str, list[str]]


def load_order(data: Mapping[str, Any]) -> WooOrder:
    """Read the parts of a v3 order the invoice needs; ``MappingError`` names every bad field."""
    if not isinstance(data, Mapping):
        raise MappingError({"order": ["must be a JSON object"]})
    errors: Errors = {}
    head = _load(OrderFieldsSchema(), data, "", errors)
    billing = _load(BillingSchema(), {} if data.get("billing") is None else data["billing"],
                    "billing", errors)
    items = _load_list(LineItemSchema(), data, "line_items", errors)
    shipping = _load_list(ShippingLineSchema(), data, "shipping_lines", errors)
    fees = _load_list(FeeLineSchema(), data, "fee_lines", errors)
    decimals = _decimals(data.get("total"))
    if decimals is not None:
        # Checked even when other fields failed, so the operator sees every problem at once.
        total_text = data["total"]
        _check_places(decimals, total_text, "line_items", items, errors)
        _check_places(decimals, total_text, "shipping_lines", shipping, errors)
        _check_places(decimals, total_text, "fee_lines", fees, errors)
    if errors or head is None or billing is None or decimals is None:
        raise MappingError(errors)
    return WooOrder(
        id=head["id"],
        number=head["number"],
        status=head["status"],
        currency=head["currency"],
        total=money.quantize(head["total"], decimals),
        decimals=decimals,
        date_created_gmt=head["date_created_gmt"],
        # only informational here; the snapshot header is what orders deliveries
        date_modified_gmt=parse_gmt(data.get("date_modified_gmt")),
        customer_note=head["customer_note"],
        billing=billing,
        meta_data=read_meta(data),
        line_items=tuple(i for i in items if i is not None),
        shipping_lines=tuple(s for s in shipping if s is not None),
        fee_lines=tuple(f for f in fees if f is not None),
        prices_include_tax=data.get("prices_include_tax") is True,
        tax_rates=read_tax_rates(data),
        payment_method=head["payment_method"],
        payment_method_title=head["payment_method_title"],
        date_paid_gmt=parse_gmt(data.get("date_paid_gmt")),
        refunds=read_refunds(data),
        customer_id=read_customer_id(data),
    )


def read_customer_id(data: Mapping[str, Any]) -> int:
    """``customer_id`` read leniently: a JSON integer from 1 to 2^63 - 1, else 0 (a guest).
    Nothing on the invoice depends on it, so a garbled one never stops an order."""
    value = data.get("customer_id")
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ORDER_ID:
        return value
    return 0


def read_refunds(data: Mapping[str, Any]) -> tuple[tuple[int, Decimal, str], ...]:
    """``refunds`` read leniently: ``{id, reason, total}`` with a negative ``total``
    ("-10.00"); entries that are not are skipped (the order total check does not depend on
    them: WooCommerce keeps the order's total as it was)."""
    raw = data.get("refunds")
    refunds: list[tuple[int, Decimal, str]] = []
    if not isinstance(raw, list):
        return ()
    for entry in raw[:MAX_TAXES]:
        if not isinstance(entry, Mapping):
            continue
        refund_id, reason = entry.get("id"), entry.get("reason")
        try:
            amount = -money.parse_amount(entry.get("total"))
        except ValueError:
            continue
        if isinstance(refund_id, int) and not isinstance(refund_id, bool) and amount > 0:
            refunds.append((refund_id, amount,
                            single_line(reason) if isinstance(reason, str) else ""))
    return tuple(refunds)


def read_tax_rates(data: Mapping[str, Any]) -> dict[int, Decimal | None]:
    """``tax_lines`` read leniently: rate id -> ``rate_percent`` (a number since WooCommerce
    3.7; None where missing or unreadable)."""
    raw = data.get("tax_lines")
    rates: dict[int, Decimal | None] = {}
    if not isinstance(raw, list):
        return rates
    for entry in raw[:MAX_TAXES]:
        if not isinstance(entry, Mapping):
            continue
        rate_id, percent = entry.get("rate_id"), entry.get("rate_percent")
        if isinstance(rate_id, bool) or not isinstance(rate_id, int):
            continue
        try:
            rates[rate_id] = money.parse_amount(percent) if percent is not None else None
        except ValueError:
            rates[rate_id] = None
    return rates


#: meta the bridge writes to orders itself (bridge/writeback): never read as the order's
#: content, whatever a shop configures, so writing it back can never change an invoice
OWN_META_PREFIX = "_invoice_bridge_"


def read_meta(data: Mapping[str, Any]) -> tuple[WooMeta, ...]:
    """``meta_data`` read leniently: entries that are not ``{key: str, value: ...}`` are
    skipped -- other plugins' meta are not ours to reject -- and so is the bridge's own."""
    raw = data.get("meta_data") if isinstance(data, Mapping) else None
    if not isinstance(raw, list):
        return ()
    return tuple(
        WooMeta(entry["key"], entry.get("value"))
        for entry in raw
        if isinstance(entry, Mapping) and isinstance(entry.get("key"), str)
        and not entry["key"].startswith(OWN_META_PREFIX)
    )


def read_snapshot_header(data: Mapping[str, Any]) -> SnapshotHeader:
    """The order id, number, status and date_modified_gmt, best effort: only a missing or
    unusable ``id`` is an error, so a delivery whose order is otherwise unusable can still be
    recorded against the right order. Number and status are sanitised; ``header_problems``
    says whether they fit."""
    raw_id = data.get("id") if isinstance(data, Mapping) else None
    try:
        order_id = parse_order_id(raw_id)
    except ValidationError as exc:
        raise MappingError({"id": _messages(exc.messages)}) from None
    number = data.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    status = data.get("status")
    return SnapshotHeader(
        order_id=order_id,
        number=(single_line(number) or None) if isinstance(number, str) else None,
        status=(single_line(status) or None) if isinstance(status, str) else None,
        modified_at=parse_gmt(data.get("date_modified_gmt")),
    )


def header_problems(header: SnapshotHeader) -> Errors:
    """What in the header does not fit a sync row (too long), by field; empty if all fits.
    Such an order is recorded as ``invalid``, never offered to the database as it is."""
    errors: Errors = {}
    for name, value, limit in (("number", header.number, MAX_ORDER_NUMBER),
                               ("status", header.status, MAX_STATUS)):
        if value is not None and len(value) > limit:
            _add(errors, name, f"longer than {limit} characters ({len(value)}): {_show(value)}")
    return errors


def _load(schema: Schema, raw: Any, path: str, errors: Errors) -> Any:
    """Load one part; on failure record its errors under ``path`` and return None."""
    if not isinstance(raw, Mapping):
        _add(errors, path or "order", "must be a JSON object")
        return None
    try:
        return schema.load(raw)
    except ValidationError as exc:
        errors.update(flatten(exc.messages, path))
        return None


def _load_list(schema: Schema, data: Mapping[str, Any], name: str, errors: Errors) -> list[Any]:
    raw = data.get(name)
    if raw is None:
        return []
    if not isinstance(raw, list):
        _add(errors, name, "must be a list")
        return []
    return [_load(schema, item, f"{name}[{index}]", errors) for index, item in enumerate(raw)]


def _decimals(total: Any) -> int | None:
    """The shop's decimals from the order ``total`` string; None if it is unreadable (the
    schema reports why)."""
    if not isinstance(total, str):
        return None
    try:
        return money.decimals_of(total)
    except ValueError:
        return None


def _check_places(decimals: int, total_text: str, name: str, parts: list[Any],
                  errors: Errors) -> None:
    """Every line amount must fit the decimals the order total shows: more places means the
    payload is not what WooCommerce formats, and rounding it here would change the money."""
    for index, part in enumerate(parts):
        if part is None:
            continue
        for attr in ("total", "total_tax"):
            value = getattr(part, attr)
            if not money.fits(value, decimals):
                _add(errors, f"{name}[{index}].{attr}",
                     f"{value} has more than {decimals} decimal places "
                     f"(the order total {total_text!r} has {decimals})")


def flatten(messages: Any, prefix: str = "") -> Errors:
    """marshmallow's nested messages -> ``{"line_items[1].quantity": [...]}``."""
    if not isinstance(messages, Mapping):
        return {prefix or "order": _messages(messages)}
    out: Errors = {}
    for key, value in messages.items():
        if key == "_schema":
            path = prefix or "order"
        elif isinstance(key, int):
            path = f"{prefix}[{key}]"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        for sub_path, reasons in flatten(value, path).items():
            out.setdefault(sub_path, []).extend(reasons)
    return out


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _add(errors: Errors, path: str, reason: str) -> None:
    errors.setdefault(path, []).append(reason)
