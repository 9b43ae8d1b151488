"""Value checkers for the put/invoice validation: each takes a JSON value and returns
``(parsed value, None)`` or ``(None, reason)``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from bridge.upstreams.econt.assumptions import DATE_FORMAT, DATE_PATTERN

_DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
# Plausible, not RFC 5322: one @, no spaces, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Field checkers return (parsed value, reason); a reason means the value is invalid.
Checker = Callable[[object], tuple[Any, str | None]]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(value: object) -> tuple[Any, str | None]:
    return (value, None) if _is_int(value) else (None, "must be an integer")


def check_positive_int(value: object) -> tuple[Any, str | None]:
    if _is_int(value) and value > 0:
        return value, None
    return None, "must be a positive integer"


def check_non_negative_int(value: object) -> tuple[Any, str | None]:
    if _is_int(value) and value >= 0:
        return value, None
    return None, "must be a non-negative integer"


def check_quantity(value: object) -> tuple[Any, str | None]:
    if _is_int(value) and value >= 1:
        return value, None
    return None, "must be an integer >= 1"


def check_string(value: object) -> tuple[Any, str | None]:
    return (value, None) if isinstance(value, str) else (None, "must be a string")


def check_nonempty_string(value: object) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, "must be a string"
    return (value, None) if value.strip() else (None, "must not be empty")


def check_email(value: object) -> tuple[Any, str | None]:
    if not isinstance(value, str) or not value:
        return None, "is required (the invoice is sent to this address)"
    return (value, None) if _EMAIL.match(value) else (None, "must be a valid e-mail address")


def check_date(value: object) -> tuple[Any, str | None]:
    reason = "must be a real date written YYYY-MM-DD hh:mm:ss"
    if not isinstance(value, str) or not DATE_PATTERN.match(value):
        return None, reason
    try:
        return datetime.strptime(value, DATE_FORMAT), None
    except ValueError:
        return None, reason


def pattern_check(pattern: re.Pattern[str], reason: str) -> Checker:
    def check(value: object) -> tuple[Any, str | None]:
        if isinstance(value, str) and pattern.match(value):
            return value, None
        return None, reason

    return check


def blank_or(pattern: re.Pattern[str], reason: str) -> Checker:
    def check(value: object) -> tuple[Any, str | None]:
        if not isinstance(value, str):
            return None, "must be a string"
        return (value, None) if value == "" or pattern.match(value) else (None, reason)

    return check


def _as_decimal(value: object) -> Decimal | None:
    """A JSON number or a plain decimal string as ``Decimal``; None if neither."""
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        # Only for Python callers: bodies parsed here never hold floats. repr() is the
        # shortest text that round-trips, i.e. what JSON would have carried.
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and _DECIMAL_TEXT.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern already excludes it
            return None
    return None


def check_decimal(value: object) -> tuple[Any, str | None]:
    parsed = _as_decimal(value)
    if parsed is None:
        return None, 'must be a decimal (a JSON number or a string like "554.30")'
    return parsed, None


def check_amount(value: object) -> tuple[Any, str | None]:
    parsed, reason = check_decimal(value)
    if reason is None and parsed < 0:
        return None, "must not be negative"
    return parsed, reason
