"""Small imitations of the PHP and WordPress functions the simulator's answers depend on:
``$_GET`` parsing, ``rawurlencode``, ``absint``, ``wp_parse_list`` and ``wp_sprintf``'s
``%l`` lists."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, quote


def php_query(raw_query: str) -> dict[str, Any]:
    """The query string as PHP's ``$_GET`` holds it: '+' is a space, the last of repeated
    names wins, ``name[]=``/``name[key]=`` build arrays (dicts here)."""
    result: dict[str, Any] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        match = re.match(r"^([^\[\]]+)\[([^\]]*)\]$", name)
        if not match:
            result[name] = value
            continue
        base, sub = match.groups()
        array = result.get(base)
        if not isinstance(array, dict):
            array = result[base] = {}
        array[sub if sub else sum(isinstance(k, int) for k in array)] = value
    return result


def rawurlencode(text: str) -> str:
    """PHP ``rawurlencode`` (what ``wc_rest_urlencode_rfc3986`` amounts to)."""
    return quote(text, safe="")


def as_number(value: Any) -> float | None:
    """A query value read as a finite number, None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        number = float(value.strip()) if value.strip() else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def absint(value: Any) -> int:
    number = as_number(value)
    return abs(int(number)) if number is not None else 0


def wp_parse_list(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(item) for item in value.values()]
    return [part for part in re.split(r"[\s,]+", str(value)) if part]


def wp_list(values: Sequence[str]) -> str:
    """wp_sprintf's ``%l``: "a", "a and b", "a, b, and c"."""
    if len(values) <= 2:
        return " and ".join(values)
    return ", ".join(values[:-1]) + ", and " + values[-1]
