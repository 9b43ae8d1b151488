"""Decimal helpers for order money: how many decimals an order uses, quantising, splitting.

WooCommerce formats every order-level and line-level amount with the shop's "number of
decimals" setting (``wc_get_price_decimals()``), which is 2 by default but may be 0 (a VND shop
sends ``"17000000"``) or 3. That setting is not in the payload, so we read it off the order's
``total`` string: the digits after the point are the shop's decimals.

Money is ``Decimal`` throughout; nothing here ever touches ``float``.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

#: a plain formatted amount as WooCommerce writes it: optional minus, digits, optional
#: fraction. No exponent, no thousands separator, no currency sign. ASCII digits only (``\d``
#: alone would take ``"١١٨٧.00"``, and Decimal reads those digits).
FORMATTED_AMOUNT = re.compile(r"^-?\d+(?:\.(\d+))?$", re.ASCII)


#: More decimals than this are refused: no currency has more than 4 minor digits, and it keeps
#: amounts well inside Decimal's 28 significant digits.
MAX_DECIMALS = 6

#: Larger amounts are refused rather than risk Decimal's 28-digit context overflowing in a
#: quantize (which would raise an exception instead of a field error). 10^15 of any currency
#: is far beyond any real order.
MAX_AMOUNT = Decimal(10) ** 15


def parse_amount(value: Any) -> Decimal:
    """A money value from WooCommerce JSON as ``Decimal``: a formatted string (what every
    order and line amount is) or a JSON number (accepted for leniency; a float goes through
    ``str()`` so 427.5 stays 427.5 and never becomes 427.49999...). Raises ``ValueError``."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not FORMATTED_AMOUNT.match(text):
            raise ValueError(f"not an amount: {value!r}")
        amount = Decimal(text)
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float) and math.isfinite(value):
        amount = Decimal(str(value))
    else:
        raise ValueError(f"not an amount: {value!r}")
    if abs(amount) >= MAX_AMOUNT:
        raise ValueError(f"amount too large: {value!r}")
    return amount


def decimals_of(text: str) -> int:
    """Digits after the point of a formatted amount: ``"8377.20"`` -> 2, ``"17000000"`` -> 0.

    Raises ``ValueError`` if ``text`` is not a plain formatted amount.
    """
    match = FORMATTED_AMOUNT.match(text.strip())
    if match is None:
        raise ValueError(f"not a formatted amount: {text!r}")
    fraction = match.group(1)
    decimals = len(fraction) if fraction else 0
    if decimals > MAX_DECIMALS:
        raise ValueError(f"more than {MAX_DECIMALS} decimal places: {text!r}")
    return decimals


def quantum(decimals: int) -> Decimal:
    """The minor unit: ``0.01`` for 2 decimals, ``1`` for 0."""
    return Decimal(1).scaleb(-decimals)


def fits(value: Decimal, decimals: int) -> bool:
    """True if ``value`` needs no more than ``decimals`` places (trailing zeros do not count:
    ``Decimal("33.00")`` fits 0 decimals, ``Decimal("33.50")`` does not)."""
    return value == value.quantize(quantum(decimals), rounding=ROUND_FLOOR)


def quantize(value: Decimal, decimals: int) -> Decimal:
    """``value`` with exactly ``decimals`` places, rounding half away from zero like PHP's
    ``round()`` (what WooCommerce uses), and without a negative zero."""
    result = value.quantize(quantum(decimals), rounding=ROUND_HALF_UP)
    # -0.00 would render as "-0.00"; a zero amount is just zero.
    return result.copy_abs() if result.is_zero() else result


def format_amount(value: Decimal, decimals: int) -> str:
    """``Decimal("33.3")`` with 2 decimals -> ``"33.30"``; 0 decimals -> no point at all."""
    return f"{quantize(value, decimals):f}"


def split_total(total: Decimal, quantity: int, decimals: int) -> list[tuple[int, Decimal]]:
    """Split a line total into ``[(quantity, unit_price), ...]`` so that every
    ``unit_price * quantity`` is exact at ``decimals`` and the parts add up to ``total``.

    One part when ``total`` divides evenly; otherwise ``quantity - 1`` units at the floored
    price plus one unit carrying the remainder: 100.00 for 3 -> ``[(2, 33.33), (1, 33.34)]``.
    The invoice then shows the real quantity and the exact total the buyer pays, at the cost
    of one extra line; a rounded unit price would make price x quantity differ from the total.
    """
    if quantity < 1:
        raise ValueError(f"quantity must be at least 1, got {quantity}")
    # Integer minor units: exact whatever the size, no Decimal context rounding involved.
    units = int(quantize(total, decimals).scaleb(decimals))
    price_units, rest = divmod(units, quantity)  # floor division, also for negative totals
    if rest == 0:
        return [(quantity, to_amount(price_units, decimals))]
    remainder_units = units - price_units * (quantity - 1)
    return [
        (quantity - 1, to_amount(price_units, decimals)),
        (1, to_amount(remainder_units, decimals)),
    ]


def to_amount(minor_units: int, decimals: int) -> Decimal:
    """``12345`` minor units with 2 decimals -> ``Decimal("123.45")``."""
    return quantize(Decimal(minor_units).scaleb(-decimals), decimals)


def split_proportionally(part: Decimal, whole: Decimal, amount: Decimal,
                         decimals: int) -> Decimal:
    """``amount * part / whole`` quantised; the caller gives the rest to the other part so
    that the pieces still add up exactly. ``whole == 0`` gives the part nothing."""
    if whole.is_zero():
        return quantize(Decimal(0), decimals)
    return quantize(amount * part / whole, decimals)
