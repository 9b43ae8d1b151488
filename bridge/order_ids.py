"""Order ids typed by people: admin API paths and bodies, command-line arguments.

An order id is a whole number from 1 to 2^63 - 1 (the database stores it as a BIGINT), and
in text it is written in ASCII digits. Python's ``int()`` (and so werkzeug's ``int``
converter and click's ``INT``) also reads other scripts' digits -- ``int("١١٨٧")`` is
1187 -- and any size, which the database then refuses with an error instead of an answer.
"""

from __future__ import annotations

import re
from typing import Any

MAX_ORDER_ID = 2**63 - 1
RULE = f"a whole number from 1 to {MAX_ORDER_ID}, in ASCII digits"
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_order_id(text: str) -> int:
    """The order id written in ``text``; ``ValueError(RULE)`` if it is not one."""
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_ORDER_ID:
        raise ValueError(f"must be {RULE}")
    return int(text)


def is_order_id(value: Any) -> bool:
    """A JSON order id: an integer (not a boolean) from 1 to 2^63 - 1."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ORDER_ID
