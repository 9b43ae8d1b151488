"""Structured logs: one JSON object per line, with personal data and secrets masked.

Code logs ids and outcomes in ``extra={...}``; the formatter adds them as fields. Work on one
delivery or one order runs inside ``log_context(delivery=..., order="shop/1187")``, so every
line it logs carries those correlation ids: ``grep '"order": "shop/1187"'`` follows an order
from its webhook through processing to every dispatch attempt. As a safety net, every string
that goes out is cut to a bounded length and scanned (``bridge.masking``): e-mail addresses,
phone numbers and fiscal codes are masked, and fields named like secrets are never printed
in full.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from bridge.masking import bound, mask_secret, mask_text

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging", "log_context", "mask_secret",
           "mask_text"]

_context: ContextVar[dict[str, Any] | None] = ContextVar("invoice_bridge_log_context",
                                                        default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add correlation fields to every log line written inside the block (this thread)."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """Context fields, then the record's own extras (which win)."""
    fields = dict(_context.get() or {})
    fields.update((key, value) for key, value in vars(record).items()
                  if key not in _STANDARD and not key.startswith("_") and value is not None)
    return fields

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_SECRET_KEYS = re.compile(r"(secret|token|password|authorization|client_id|consumer_key|signature)",
                          re.IGNORECASE)
_PERSONAL_KEYS = re.compile(r"^(email|phone|idno|idnp|first_name|last_name|address_1|address_2)$")

# What one log line may carry, so that a 2 MB header or path costs a bounded line (and
# bounded masking work). Values are cut before they are masked (``masking.bound``).
MAX_FIELD_CHARS = 2_000
MAX_MESSAGE_CHARS = 8_000
MAX_EXCEPTION_CHARS = 32_000
MAX_KEY_CHARS = 64
MAX_ITEMS = 100
MAX_DEPTH = 6


def _clean(key: str, value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        cleaned = {}
        for name, item in islice(value.items(), MAX_ITEMS):
            name = str(name)[:MAX_KEY_CHARS]
            cleaned[name] = _clean(name, item, depth + 1)
        if len(value) > MAX_ITEMS:
            cleaned["…"] = f"{len(value) - MAX_ITEMS} more"
        return cleaned
    if isinstance(value, list | tuple):
        cleaned_list = [_clean(key, item, depth + 1) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            cleaned_list.append(f"…{len(value) - MAX_ITEMS} more")
        return cleaned_list
    # strings, and anything else as its text (an exception, a datetime): masked alike
    text = bound(value if isinstance(value, str) else str(value), MAX_FIELD_CHARS)
    if _SECRET_KEYS.search(key):
        return mask_secret(text)
    if _PERSONAL_KEYS.match(key):
        return mask_text(text) if "@" in text else "***"
    return mask_text(text)


def _message(record: logging.LogRecord) -> str:
    return mask_text(bound(record.getMessage(), MAX_MESSAGE_CHARS))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _message(record),
        }
        for key, value in _fields(record).items():
            entry[key] = _clean(key, value)
        if record.exc_info:
            entry["exception"] = mask_text(bound(self.formatException(record.exc_info),
                                                 MAX_EXCEPTION_CHARS))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, with the same masking."""

    def format(self, record: logging.LogRecord) -> str:
        extras = {key: _clean(key, value) for key, value in _fields(record).items()}
        line = f"{record.levelname.lower():7} {record.name}: {_message(record)}"
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + mask_text(bound(self.formatException(record.exc_info),
                                            MAX_EXCEPTION_CHARS))
        return line


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("werkzeug", "urllib3", "waitress"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
