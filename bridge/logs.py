"""Structured logs: one JSON object per line, with personal data and secrets masked.

Code logs ids and outcomes in ``extra={...}``; the formatter adds them as fields. Work on one
delivery or one order runs inside ``log_context(delivery=..., order="shop/1187")``, so every
line it logs carries those correlation ids: ``grep '"order": "shop/1187"'`` follows an order
from its webhook through processing to every dispatch attempt. As a safety net, every string
that goes out is scanned: e-mail addresses, phone numbers and 13-digit fiscal codes are
masked, and fields named like secrets are never printed in full.
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
from typing import Any

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
# Anything shaped like local@domain, valid or not ("foo@", "a@b"): a malformed address in an
# error message is still someone's address.
_EMAIL = re.compile(r"([^\s'\"<>()\[\],;:@])[^\s'\"<>()\[\],;:@]*@[^\s'\"<>()\[\],;:]*")
_LONG_DIGITS = re.compile(r"(?<![\w.])(\+?\d)[\d ()-]{7,}(\d{2})(?![\w.])")


def mask_text(text: str) -> str:
    """Mask e-mail addresses and long digit runs (phones, IDNO/IDNP) inside free text."""
    text = _EMAIL.sub(r"\1***@***", text)
    return _LONG_DIGITS.sub(r"\1***\2", text)


def mask_secret(value: str) -> str:
    """Enough to tell two secrets apart in a log, not enough to use one."""
    if len(value) <= 8:
        return "***"
    return f"{value[:3]}***({len(value)} chars)"


def _clean(key: str, value: Any) -> Any:
    if isinstance(value, str):
        if _SECRET_KEYS.search(key):
            return mask_secret(value)
        if _PERSONAL_KEYS.match(key):
            return mask_text(value) if "@" in value else "***"
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(key, v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_text(record.getMessage()),
        }
        for key, value in _fields(record).items():
            entry[key] = _clean(key, value)
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, with the same masking."""

    def format(self, record: logging.LogRecord) -> str:
        extras = {key: _clean(key, value) for key, value in _fields(record).items()}
        line = f"{record.levelname.lower():7} {record.name}: {mask_text(record.getMessage())}"
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + mask_text(self.formatException(record.exc_info))
        return line


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("werkzeug", "urllib3", "waitress"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
