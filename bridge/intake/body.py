"""Reading a delivery's JSON body with a bound on nesting.

Python's ``json`` recurses once per level and raises ``RecursionError`` near 1,000 levels
(and everything that walks the result recurses again), so a hostile or broken body could
turn into an internal error instead of a recorded reason. No WooCommerce order comes
anywhere near ``MAX_DEPTH`` levels (the deepest part, a line item's ``meta_data`` value, sits
at about 6), so deeper bodies are refused before ``json`` sees them.

When a body is too deep -- or is cut off, or broken further on -- its top-level scalar
members (``id``, ``number``, ``status``, ``date_modified_gmt``, ...) up to that point are
still read with a small linear scanner, so the order can be identified and its sync row
marked ``invalid`` with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

#: deepest nesting of arrays and objects accepted in a delivery body
MAX_DEPTH = 64

# One JSON lexeme at a time: a string, a number, a literal, or a punctuation mark. Strings are
# matched whole (escapes included), so brackets inside them never count.
_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
    | (?P<literal>true|false|null)
    | (?P<punct>[\[\]{}:,])
    )""", re.VERBOSE | re.DOTALL)
#: below the top level only brackets matter: skip everything else (strings whole) at once
_INNER = re.compile(r"""(?:[^"\[\]{}]+|"(?:[^"\\]|\\.)*")*""", re.DOTALL)
_OPEN, _CLOSE = "[{", "]}"


@dataclass
class Body:
    """``data`` if the body parsed; else ``error`` says why, and ``top_level`` holds the
    scalar members of a top-level object that could still be read."""

    data: Any = None
    error: str | None = None
    top_level: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def read_body(raw: bytes, max_depth: int = MAX_DEPTH) -> Body:
    try:
        text = raw.decode(json.detect_encoding(raw))
    except (UnicodeDecodeError, LookupError) as exc:
        return Body(error=f"body is not valid JSON: {exc}")
    depth, top_level = _scan(text, max_depth)
    if depth > max_depth:
        return Body(error=f"body is nested deeper than {max_depth} levels", top_level=top_level)
    try:
        return Body(data=json.loads(text))
    except (ValueError, RecursionError) as exc:
        return Body(error=f"body is not valid JSON: {exc}", top_level=top_level)


def _scan(text: str, max_depth: int) -> tuple[int, dict[str, Any]]:
    """The deepest nesting in ``text`` (stops counting past ``max_depth``), and the scalar
    members of its top-level object. One pass, each character read once; stops quietly at
    the first thing that is not JSON (``json.loads`` then reports it, if the depth allows)."""
    depth = deepest = 0
    top_level: dict[str, Any] = {}
    key: str | None = None  # a top-level key whose value may follow
    expect_key = False  # inside the top-level object, where a key comes next
    position, end = 0, len(text)
    while position < end:
        if depth > 1:
            position = _INNER.match(text, position).end()  # type: ignore[union-attr]
        match = _TOKEN.match(text, position)
        if match is None:
            break
        position = match.end()
        kind, lexeme = match.lastgroup, match.group(match.lastgroup or 0)
        if kind == "punct":
            if lexeme in _OPEN:
                depth += 1
                deepest = max(deepest, depth)
                expect_key = depth == 1 and lexeme == "{"
                key = None if depth > 1 else key
            elif lexeme in _CLOSE:
                depth -= 1
                key = None
            elif lexeme == "," and depth == 1:
                expect_key, key = True, None
            continue
        if depth != 1:
            continue
        value = json.loads(lexeme)  # one scalar: cannot recurse
        if expect_key and kind == "string":
            key, expect_key = value, False
        elif key is not None:
            top_level[key] = value
            key = None
    return deepest, top_level
