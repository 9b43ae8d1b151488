"""``validate_invoice_request``: which fields a put/invoice body may and must hold, and
every "path: reason" violation of it (the simulator answers them all in one 400)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bridge.upstreams.econt.assumptions import LANGUAGES
from sandbox.econt.field_checks import (
    Checker,
    blank_or,
    check_amount,
    check_date,
    check_decimal,
    check_email,
    check_int,
    check_non_negative_int,
    check_nonempty_string,
    check_positive_int,
    check_quantity,
    check_string,
    pattern_check,
)

_TOP_FIELDS = ("connect", "order", "items")
_CONNECT_FIELDS = ("client", "token", "language")
_ORDER_FIELDS = ("id", "order_number", "amount", "currency", "date_created", "status",
                 "customer_note", "billing")
_BILLING_FIELDS = ("id", "company", "idno", "idnp", "first_name", "last_name", "address_1",
                   "address_2", "city", "postcode", "country", "email", "phone")
_ITEM_FIELDS = ("product_id", "product_sku", "product_name", "product_price", "product_qnt",
                "product_unit", "line_total")

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_FISCAL_CODE = re.compile(r"^\d{13}$")  # [DOC S14] IDNO is 13 characters; IDNP likewise
_ITEM_KEY = re.compile(r"^\d+$")


class _Problems:
    """Collects every violation, so one answer lists them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, reason: str) -> None:
        self.items.append(f"{path}: {reason}")

    def unknown_fields(self, obj: Mapping[str, Any], allowed: Sequence[str], prefix: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(f"{prefix}{key}", "unknown field")


def validate_invoice_request(body: object, *, check_totals: bool = True) -> list[str]:
    """Every "path: reason" violation of a put/invoice body, in document order; empty when
    the body is valid. Credentials are not checked here (that is a 401, not a 400)."""
    problems = _Problems()
    if not isinstance(body, Mapping):
        problems.add("body", "must be a JSON object")
        return problems.items
    problems.unknown_fields(body, _TOP_FIELDS, "")
    _check_connect(body.get("connect"), problems)
    amount = _check_order(body.get("order"), problems)
    line_sum = _check_items(body.get("items"), problems)
    if check_totals and amount is not None and line_sum is not None and line_sum != amount:
        problems.add("items", f"line totals add up to {line_sum}, order.amount is {amount}")
    return problems.items


def _check_connect(connect: object, problems: _Problems) -> None:
    if not isinstance(connect, Mapping):
        problems.add("connect", "is required and must be an object")
        return
    problems.unknown_fields(connect, _CONNECT_FIELDS, "connect.")
    if "language" not in connect:
        problems.add("connect.language", "is required")
    elif connect["language"] not in LANGUAGES:
        problems.add("connect.language", f"must be one of {', '.join(LANGUAGES)}")


def _check_order(order: object, problems: _Problems) -> Decimal | None:
    """Check ``order``; return its amount when readable (for the totals check)."""
    if not isinstance(order, Mapping):
        problems.add("order", "is required and must be an object")
        return None
    problems.unknown_fields(order, _ORDER_FIELDS, "order.")
    _require(order, "id", "order.", problems, check_positive_int)
    _require(order, "order_number", "order.", problems, check_nonempty_string)
    amount: Decimal | None = _require(order, "amount", "order.", problems, check_amount)
    _require(order, "currency", "order.", problems,
             pattern_check(_CURRENCY, "must be a three-letter upper-case ISO 4217 code"))
    _require(order, "date_created", "order.", problems, check_date)
    for name in ("status", "customer_note"):
        _optional_field(order, name, "order.", problems, check_string)
    billing = order.get("billing")
    if billing is None:
        problems.add("order.billing", "is required")
    elif not isinstance(billing, Mapping):
        problems.add("order.billing", "must be an object")
    else:
        _check_billing(billing, problems)
    return amount


def _check_billing(billing: Mapping[str, Any], problems: _Problems) -> None:
    prefix = "order.billing."
    problems.unknown_fields(billing, _BILLING_FIELDS, prefix)
    _require(billing, "email", prefix, problems, check_email)
    _optional_field(billing, "id", prefix, problems, check_int)
    _optional_field(billing, "country", prefix, problems,
                    blank_or(_COUNTRY, "must be a two-letter upper-case ISO 3166-1 code"))
    fiscal_code = blank_or(_FISCAL_CODE, "must be 13 digits")
    for name in ("idno", "idnp"):
        _optional_field(billing, name, prefix, problems, fiscal_code)
    for name in ("company", "first_name", "last_name", "address_1", "address_2", "city",
                 "postcode", "phone"):
        _optional_field(billing, name, prefix, problems, check_string)


def _check_items(items: object, problems: _Problems) -> Decimal | None:
    """Check ``items``; return the sum of line totals when every one is readable."""
    if items is None:
        problems.add("items", "is required")
        return None
    if isinstance(items, list):
        problems.add("items", "must be a JSON object keyed by line number, not an array")
        return None
    if not isinstance(items, Mapping):
        problems.add("items", "must be a JSON object keyed by line number")
        return None
    if not items:
        problems.add("items", "must contain at least one line")
        return None
    total: Decimal | None = Decimal(0)
    for key, item in items.items():
        line_total = _check_item(str(key), item, problems)
        total = None if total is None or line_total is None else total + line_total
    return total


def _check_item(key: str, item: object, problems: _Problems) -> Decimal | None:
    prefix = f"items.{key}."
    if not _ITEM_KEY.match(key):
        problems.add(f"items.{key}", "key must be a string holding an integer")
    if not isinstance(item, Mapping):
        problems.add(f"items.{key}", "must be an object")
        return None
    problems.unknown_fields(item, _ITEM_FIELDS, prefix)
    _optional_field(item, "product_id", prefix, problems, check_non_negative_int)
    for name in ("product_sku", "product_unit"):
        _optional_field(item, name, prefix, problems, check_string)
    _require(item, "product_name", prefix, problems, check_nonempty_string)
    _require(item, "product_price", prefix, problems, check_decimal)
    _require(item, "product_qnt", prefix, problems, check_quantity)
    line_total: Decimal | None = _require(item, "line_total", prefix, problems, check_decimal)
    return line_total


def _require(obj: Mapping[str, Any], name: str, prefix: str, problems: _Problems,
             check: Checker) -> Any:
    if name not in obj:
        problems.add(prefix + name, "is required")
        return None
    return _optional_field(obj, name, prefix, problems, check)


def _optional_field(obj: Mapping[str, Any], name: str, prefix: str, problems: _Problems,
                    check: Checker) -> Any:
    if name not in obj:
        return None
    value, reason = check(obj[name])
    if reason is not None:
        problems.add(prefix + name, reason)
        return None
    return value
