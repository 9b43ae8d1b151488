"""Marshmallow fields of the admin API whose rules JSON Schema can state, so that the
OpenAPI document (``bridge.admin.openapi``) says exactly what the server accepts.

Patterns are written once, in the syntax both Python's ``re`` and the ECMA regular
expressions of JSON Schema read the same way (explicit character classes, no ``\\s``, whose
members differ), and Python matches them whole (``fullmatch``: its ``$`` would also match
before a final newline).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, validate

from bridge.masking import mask_text
from bridge.order_ids import MAX_ORDER_ID
from bridge.order_ids import RULE as ORDER_ID_RULE

#: NUL: PostgreSQL's text cannot hold it
_NO_NUL = r"[^\u0000]"
#: a character that is neither NUL nor blank -- blank being ASCII white space
#: (``str.isspace`` and ECMA's ``\\s`` disagree about other characters, so neither is used)
_NOT_BLANK = r"[^\u0000 \t\n\r\f\v]"


class Matches(validate.Validator):
    """The whole value matches ``pattern``; the document states it as ``^(?:pattern)$``."""

    def __init__(self, pattern: str, error: str) -> None:
        self.pattern = re.compile(pattern)
        #: read by apispec (``field2pattern``): the pattern as the document states it
        self.regex = re.compile(f"^(?:{pattern})$")
        self.message = error

    def __call__(self, value: str) -> str:
        if not self.pattern.fullmatch(value):
            raise ValidationError(self.message)
        return value


def _no_lone_surrogate(value: str) -> str:
    # JSON "\ud800" decodes to a lone surrogate, which no database encoding can store
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise ValidationError("must not contain lone surrogates (invalid UTF-16)")
    return value


class Text(fields.String):
    """A JSON string that says something: not blank, no NUL, at most ``max_length``
    characters. ``null`` is refused like any other non-string."""

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        # the order matters: the length is checked before the (linear) pattern
        validators: list[Callable[[Any], Any]] = [
            validate.Length(max=max_length, error=f"at most {max_length} characters"),
            Matches(f"{_NO_NUL}*{_NOT_BLANK}{_NO_NUL}*",
                    "must be a non-empty string (and hold no NUL)"),
            _no_lone_surrogate,
        ]
        messages: dict[str, str | list[Any] | dict[Any, Any]] = {
            "invalid": "must be a non-empty string", "null": "must be a non-empty string",
            "required": "required"}
        super().__init__(validate=validators, error_messages=messages, **kwargs)


class StrictBoolean(fields.Boolean):
    """Only JSON ``true`` or ``false``: never ``"false"``, ``0`` or ``null``, so that a
    mistyped ``force`` can never send a second invoice."""

    default_error_messages = {"invalid": "must be a bool: true or false",
                              "null": "must be a bool: true or false"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if type(value) is not bool:
            raise self.make_error("invalid")
        return value


class OrderId(fields.Integer):
    """An order id in a JSON body: an integer (not a boolean) from 1 to 2^63 - 1.

    JSON Schema counts ``37.0`` as an integer, so it is one here too -- exactly: the body is
    parsed with decimals (``params.json_body``), so ``26779743033498113.0`` is that id and not
    the nearest float's."""

    default_error_messages = {"invalid": f"must be {ORDER_ID_RULE}",
                              "null": f"must be {ORDER_ID_RULE}"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=1, max=MAX_ORDER_ID),
                         metadata={"format": "int64"}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if type(value) is int and 1 <= value <= MAX_ORDER_ID:
            return value
        # the range first: int() of 1e999999999 would build a billion digits
        if (isinstance(value, Decimal) and value.is_finite() and 1 <= value <= MAX_ORDER_ID
                and value == value.to_integral_value()):
            return int(value)
        raise self.make_error("invalid")


# --- query parameters (always text) ---------------------------------------------------------


class Limit(fields.Integer):
    """``limit``: a page size in ASCII digits, 1 to ``maximum``."""

    def __init__(self, *, maximum: int, default: int, **kwargs: Any) -> None:
        self.message = f"must be a whole number from 1 to {maximum}"
        self.maximum = maximum
        super().__init__(validate=validate.Range(min=1, max=maximum), load_default=default,
                         **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not (isinstance(value, str) and re.fullmatch(r"[0-9]{1,4}", value)
                and 1 <= int(value) <= self.maximum):
            raise ValidationError(self.message)
        return int(value)


#: RFC 3339 (``2026-11-22T10:00:00Z``, any case, any fraction, leap second), a date alone, and
#: a date-time without seconds or without an offset (UTC)
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,32}))?)?([Zz]|[+-]\d{2}:\d{2})?)?",
    re.ASCII)
_EARLIEST, _LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def parse_date_time(text: str) -> datetime:
    """The moment ``text`` names, in UTC; ``ValueError`` if it names none. Moments outside
    what Python can hold (year 0000, 9999-12-31T23:00-05:00) become the earliest or latest
    one: as bounds of a filter they mean the same."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if year == "0000":  # RFC 3339 allows it; datetime does not
        if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
            raise ValueError(text)
        return _EARLIEST
    moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      min(int(second or 0), 59),  # 60: a leap second
                      int((fraction or "0")[:6].ljust(6, "0")))
    shift = timedelta()
    if offset and offset not in ("Z", "z"):
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(text)
        shift = timedelta(hours=hours, minutes=minutes) * (1 if offset[0] == "+" else -1)
    try:
        return (moment - shift).replace(tzinfo=UTC)
    except OverflowError:
        return _EARLIEST if shift > timedelta() else _LATEST


class DateTimeParameter(fields.DateTime):
    """A date-time query parameter (``created_after=...``); see ``parse_date_time``."""

    message = "not an ISO 8601 date-time, e.g. 2026-11-22T10:00:00Z"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 64:
            raise ValidationError(self.message)
        try:
            return parse_date_time(value)
        except ValueError:
            raise ValidationError(self.message) from None


# --- responses --------------------------------------------------------------------------


class Masked(fields.String):
    """A reason shown to operators, masked like the logs (``bridge.masking``): it can quote
    what a buyer typed into a wrong field."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return mask_text(value) if value else value
