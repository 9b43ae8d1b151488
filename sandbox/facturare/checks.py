"""What the simulated facturare.md accepts in a create request: every ``(param, reason)``
wrong with a customer, an invoice or a payment body, in document order.

The field names, formats and limits are the adapter's assumptions
(``bridge/upstreams/facturare/assumptions.py``), imported, never repeated; on top of them
the simulator is strict so that adapter bugs show up early: undefined properties are
refused, strings are bounded, decimals are strings or JSON numbers without exponent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.upstreams.facturare import assumptions as facturare

Problem = tuple[str, str]
#: (id) -> the account's object of that kind, or None
Lookup = Callable[[object], Mapping[str, Any] | None]

MAX_TEXT = 255
MAX_NOTES = 10_000
MAX_ITEMS = 1_000
MAX_TAXES = 10
#: places a unit cost or quantity may carry (beyond, it is a client bug)
MAX_PLACES = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, param: str, reason: str) -> None:
        self.items.append((param, reason))

    def unknown(self, body: Mapping[str, Any], allowed: Sequence[str], prefix: str = "") -> None:
        for name in body:
            if name not in allowed:
                self.add(f"{prefix}{name}", "is not a known property")


def check_customer(body: Mapping[str, Any]) -> list[Problem]:
    problems = Problems()
    problems.unknown(body, facturare.CUSTOMER_FIELDS)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add("name", "is required")
    email = body.get("email")
    if not isinstance(email, str) or not email:
        problems.add("email", "is required")
    elif not _EMAIL.match(email) or len(email) > 254:
        problems.add("email", "must be a valid e-mail address")
    if "type" in body and body["type"] not in facturare.CUSTOMER_TYPES:
        problems.add("type", f"must be one of {', '.join(facturare.CUSTOMER_TYPES)}")
    if "country" in body and not (isinstance(body["country"], str)
                                  and _COUNTRY.match(body["country"])):
        problems.add("country", "must be a two-letter ISO 3166-1 code in upper case")
    for field in ("name", "email", "address1", "address2", "city", "postal_code", "phone",
                  "tax_id"):
        _text(body, field, problems)
    check_metadata(body, problems)
    return problems.items


def check_invoice(body: Mapping[str, Any], customer: Lookup) -> list[Problem]:
    problems = Problems()
    problems.unknown(body, facturare.INVOICE_FIELDS)
    _reference(body, "customer", customer, problems)
    currency = body.get("currency")
    if not isinstance(currency, str) or not facturare.CURRENCY_PATTERN.match(currency):
        problems.add("currency", "is required: a three-letter ISO 4217 code in lower case")
        currency = None
    _timestamp(body, problems)
    _text(body, "purchase_order", problems)
    _text(body, "notes", problems, MAX_NOTES)
    items = body.get("items")
    if not isinstance(items, list) or not items:
        problems.add("items", "is required: a non-empty array of line items")
    elif len(items) > MAX_ITEMS:
        problems.add("items", f"must have at most {MAX_ITEMS} lines")
    else:
        for index, item in enumerate(items):
            _item(item, f"items[{index}]", currency, problems)
    check_metadata(body, problems)
    return problems.items


def check_payment(body: Mapping[str, Any], customer: Lookup,
                  invoice: Lookup) -> list[Problem]:
    problems = Problems()
    problems.unknown(body, facturare.PAYMENT_FIELDS)
    owner = _reference(body, "customer", customer, problems)
    target = _reference(body, "invoice", invoice, problems)
    if owner is not None and target is not None and target["customer"] != owner["id"]:
        problems.add("invoice", "belongs to another customer")
    currency = body.get("currency")
    if not isinstance(currency, str) or not facturare.CURRENCY_PATTERN.match(currency):
        problems.add("currency", "is required: a three-letter ISO 4217 code in lower case")
    elif target is not None and currency != target["currency"]:
        problems.add("currency", f"must be the invoice's currency ({target['currency']})")
    amount = decimal(body.get("amount"))
    if amount is None or amount <= 0:
        problems.add("amount", "is required: a positive decimal")
    elif isinstance(currency, str) and not _fits(amount, currency):
        problems.add("amount", f"has more decimals than {currency} has")
    _timestamp(body, problems)
    if "method" in body and body["method"] not in facturare.PAYMENT_METHODS:
        problems.add("method", f"must be one of {', '.join(facturare.PAYMENT_METHODS)}")
    for field in ("reference", "notes"):
        _text(body, field, problems)
    check_metadata(body, problems)
    return problems.items


def check_metadata(body: Mapping[str, Any], problems: Problems) -> None:
    if "metadata" not in body:
        return
    metadata = body["metadata"]
    if not isinstance(metadata, Mapping):
        problems.add("metadata", "must be an object")
        return
    if len(metadata) > facturare.METADATA_MAX_KEYS:
        problems.add("metadata", f"may hold at most {facturare.METADATA_MAX_KEYS} keys")
    for key, value in metadata.items():
        if len(key) > facturare.METADATA_MAX_KEY_LENGTH:
            problems.add(f"metadata[{key[:50]}]",
                         f"keys are at most {facturare.METADATA_MAX_KEY_LENGTH} characters")
        if not isinstance(value, str) or len(value) > facturare.METADATA_MAX_VALUE_LENGTH:
            problems.add(f"metadata[{key[:50]}]", "must be a string of at most "
                         f"{facturare.METADATA_MAX_VALUE_LENGTH} characters")


def decimal(value: object) -> Decimal | None:
    """A decimal string (``"554.30"``) or a JSON number (parsed as Decimal), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and facturare.DECIMAL_TEXT.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern already excludes it
            return None
    return None


def _item(item: object, path: str, currency: str | None, problems: Problems) -> None:
    if not isinstance(item, Mapping):
        problems.add(path, "must be an object")
        return
    problems.unknown(item, facturare.ITEM_FIELDS, f"{path}.")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(f"{path}.name", "is required")
    _text(item, "name", problems, prefix=f"{path}.")
    _text(item, "description", problems, MAX_NOTES, prefix=f"{path}.")
    quantity = decimal(item.get("quantity"))
    if quantity is None or quantity <= 0 or _places(quantity) > MAX_PLACES:
        problems.add(f"{path}.quantity", "is required: a positive decimal")
    unit_cost = decimal(item.get("unit_cost"))
    if unit_cost is None or _places(unit_cost) > MAX_PLACES:
        problems.add(f"{path}.unit_cost", "is required: a decimal")
    taxes = item.get("taxes", [])
    if not isinstance(taxes, list) or len(taxes) > MAX_TAXES:
        problems.add(f"{path}.taxes", f"must be an array of at most {MAX_TAXES} taxes")
        return
    for number, tax in enumerate(taxes):
        _tax(tax, f"{path}.taxes[{number}]", currency, problems)


def _tax(tax: object, path: str, currency: str | None, problems: Problems) -> None:
    if not isinstance(tax, Mapping):
        problems.add(path, "must be an object")
        return
    problems.unknown(tax, facturare.TAX_FIELDS, f"{path}.")
    amount = decimal(tax.get("amount"))
    if amount is None:
        problems.add(f"{path}.amount", "is required: a decimal")
    elif currency is not None and not _fits(amount, currency):
        problems.add(f"{path}.amount", f"has more decimals than {currency} has")
    if "rate" in tax:
        rate = decimal(tax["rate"])
        if rate is None or not Decimal(0) <= rate <= Decimal(100):
            problems.add(f"{path}.rate", "must be a percentage from 0 to 100")
    if "inclusive" in tax and not isinstance(tax["inclusive"], bool):
        problems.add(f"{path}.inclusive", "must be true or false")


def _reference(body: Mapping[str, Any], field: str, lookup: Lookup,
               problems: Problems) -> Mapping[str, Any] | None:
    value = body.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        problems.add(field, f"is required: the {field}'s id (an integer)")
        return None
    found = lookup(value)
    if found is None:
        problems.add(field, f"No such {field}: {value}")
    return found


def _timestamp(body: Mapping[str, Any], problems: Problems) -> None:
    value = body.get("date")
    if "date" in body and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        problems.add("date", "must be a UNIX timestamp (whole seconds)")


def _text(body: Mapping[str, Any], field: str, problems: Problems, limit: int = MAX_TEXT,
          *, prefix: str = "") -> None:
    if field not in body:
        return
    value = body[field]
    if not isinstance(value, str):
        problems.add(f"{prefix}{field}", "must be a string")
    elif len(value) > limit:
        problems.add(f"{prefix}{field}", f"must be at most {limit} characters")


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _fits(amount: Decimal, currency: str) -> bool:
    return _places(amount.normalize()) <= facturare.currency_decimals(currency)
