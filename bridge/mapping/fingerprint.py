"""A fingerprint of what an invoice shows, to tell "changed" from "delivered again".

WooCommerce sends many ``order.updated`` per order (payment callbacks, notes, stock saves,
processing -> completed). Only a change to what the invoice shows -- buyer, lines, amounts,
currency, dates -- should count. The WooCommerce status is deliberately left out: an order
moving from processing to completed is the normal life of an invoiced order, not a change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from bridge.mapping.draft import InvoiceDraft

_IGNORED = ("status",)


def draft_fingerprint(draft: InvoiceDraft) -> str:
    content = {k: v for k, v in dataclasses.asdict(draft).items() if k not in _IGNORED}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")
