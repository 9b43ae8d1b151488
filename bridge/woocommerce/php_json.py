"""PHP-compatible JSON: the exact bytes WooCommerce's ``wp_json_encode`` produces.

WooCommerce signs the body bytes it sends (docs/woocommerce.md section 1.3), and those bytes
are PHP's compact JSON with ``\\/`` and lower-case ``\\uXXXX`` escapes and floats printed
without a ``.0`` (section 1.2.1). Backfill stores orders fetched from the REST API as if they
had been delivered by a webhook, so it encodes them the same way; the sandbox's faithful
webhook sender uses this module too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

__all__ = ["php_float_repr", "php_json_encode"]


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# PHP turns array keys like "12" or "-3" (but not "012", "-0" or "1.5") into integer keys.
_INTEGER_KEY = re.compile(r"(?:0|-?[1-9][0-9]*)\Z")
# Characters PHP's json_encode escapes with flags 0. DEL (0x7f) is *not* among them.
_NEEDS_ESCAPE = re.compile(r'["\\/\x00-\x1f]|[^\x00-\x7f]')
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def php_json_encode(value: Any) -> bytes:
    """The bytes of ``trim(wp_json_encode($value))`` for a payload held as Python data.

    The value is treated as the PHP array WooCommerce holds after ``json_decode($json, true)``
    (order payloads pass through that in ``RestApiUtil::get_endpoint_data``), so a mapping whose
    keys are ``0..n-1`` in order -- including an empty one -- is a PHP list and prints as
    ``[...]``. ``Decimal`` values print as the PHP float they would be. Raises ``ValueError`` for
    NaN/infinity and for strings that are not valid Unicode (lone surrogates), where PHP's
    ``json_encode`` fails too.
    """
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts).encode("ascii")


def php_float_repr(number: float) -> str:
    """A float as PHP >= 7.1 prints it in JSON (``serialize_precision = -1``).

    Shortest round-trip digits, like Python's ``repr``, but laid out by ``zend_gcvt`` with 17 as
    the precision: no ``.0`` for whole numbers, exponent form only below 1e-4 or from 1e17 up
    (``1.0e-5``, ``1.0e+17``).
    """
    if math.isnan(number) or math.isinf(number):
        raise ValueError("PHP's json_encode cannot encode NaN or infinity")
    if number == 0:
        return "-0" if math.copysign(1.0, number) < 0 else "0"
    sign = "-" if number < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(number))).as_tuple()
    # Position of the decimal point relative to the digits, as zend_dtoa reports it.
    point = len(digit_tuple) + int(exponent)
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    if point > 17 or point < -3:
        power = point - 1
        mantissa = f"{digits[0]}.{digits[1:] or '0'}"
        return f"{sign}{mantissa}e{'-' if power < 0 else '+'}{abs(power)}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if len(digits) <= point:
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _encode(value: Any, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_encode_string(value))
    elif isinstance(value, int):
        parts.append(_encode_int(value))
    elif isinstance(value, float | Decimal):
        parts.append(php_float_repr(float(value)))
    elif isinstance(value, Mapping):
        _encode_php_array(_php_array(value.items()), parts)
    elif isinstance(value, list | tuple):
        _encode_list(value, parts)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as PHP JSON")


def _encode_int(value: int) -> str:
    # PHP integers are 64-bit; anything larger only exists there as a float.
    if _INT64_MIN <= value <= _INT64_MAX:
        return str(value)
    return php_float_repr(float(value))


def _encode_string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"lone surrogate U+{code:04X} is not valid UTF-8")
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # UTF-16 surrogate pair, as PHP writes characters beyond the BMP
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def _php_key(key: Any) -> int | str:
    if isinstance(key, bool):
        return int(key)
    if isinstance(key, int):
        return key
    if isinstance(key, str):
        if _INTEGER_KEY.match(key) and _INT64_MIN <= int(key) <= _INT64_MAX:
            return int(key)
        return key
    raise TypeError(f"PHP array keys must be int or str, not {type(key).__name__}")


def _php_array(items: Iterable[tuple[Any, Any]]) -> dict[int | str, Any]:
    # Re-keying like PHP also merges "1" and 1 into one slot, keeping the first position.
    array: dict[int | str, Any] = {}
    for key, item in items:
        array[_php_key(key)] = item
    return array


def _encode_php_array(array: dict[int | str, Any], parts: list[str]) -> None:
    if list(array) == list(range(len(array))):  # zend_array_is_list: keys 0..n-1 in order
        _encode_list(list(array.values()), parts)
        return
    parts.append("{")
    for index, (key, item) in enumerate(array.items()):
        if index:
            parts.append(",")
        parts.append(_encode_string(str(key)))
        parts.append(":")
        _encode(item, parts)
    parts.append("}")


def _encode_list(items: Iterable[Any], parts: list[str]) -> None:
    parts.append("[")
    for index, item in enumerate(items):
        if index:
            parts.append(",")
        _encode(item, parts)
    parts.append("]")
