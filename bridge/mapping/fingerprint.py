"""A fingerprint of what an invoice shows, to tell "changed" from "delivered again".

WooCommerce sends many ``order.updated`` per order (payment callbacks, notes, stock saves,
processing -> completed). Only a change to what the invoice shows -- buyer, lines, amounts,
VAT, currency, dates -- should count. The WooCommerce status, the payment date, refunds and
the customer id are deliberately left out: an order moving from processing to completed,
being paid or refunded is the normal life of an invoiced order, handled on its own (payments,
corrections); the customer id only says which upstream contact the buyer is.

Fingerprints are stored on sync rows (``content_hash``, ``synced_hash``), so their algorithm
is versioned: today's start with ``"2:"``. Rows written before the invoice draft became
upstream-neutral hold version 1 (64 hex characters, no prefix), which ``matches`` still
recognises by recomputing that version from today's draft -- so upgrading never makes an
invoiced order look changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from bridge.mapping.draft import InvoiceDraft

VERSION = "2"
#: the prefix plus 62 hex characters fits the 64-character columns
_DIGITS = 62
#: what an order does after it was invoiced, not what the invoice shows
_IGNORED = ("status", "paid_at", "refunds", "customer_id")
#: the buyer's fields in version 1
_VERSION_1_BUYER = ("email", "first_name", "last_name", "company", "phone", "address_1",
                    "address_2", "city", "postcode", "country", "idno", "idnp")


def draft_fingerprint(draft: InvoiceDraft) -> str:
    content = {k: v for k, v in dataclasses.asdict(draft).items() if k not in _IGNORED}
    return f"{VERSION}:{_digest(content)[:_DIGITS]}"


def matches(draft: InvoiceDraft, stored: str | None) -> bool:
    """Whether ``draft`` shows what the stored fingerprint (of any version) describes."""
    if stored is None:
        return False
    if stored.startswith(f"{VERSION}:"):
        return stored == draft_fingerprint(draft)
    return stored == _version_1(draft)


def _version_1(draft: InvoiceDraft) -> str:
    """The fingerprint the first draft (e-Cont.md-shaped: integer quantities, gross unit
    price, "1", "2", ... keys, no VAT rate) had for this order."""
    buyer = {name: getattr(draft.buyer, name) for name in _VERSION_1_BUYER}
    lines = [{
        "key": str(number), "kind": line.kind.value, "name": line.name,
        "quantity": int(line.quantity), "unit_price": line.unit_price_gross,
        "total": line.total_gross, "net_total": line.total_net, "tax_total": line.total_tax,
        "sku": line.sku, "product_id": line.product_id, "unit": line.unit,
        "source_id": line.source_id,
    } for number, line in enumerate(draft.lines, start=1)]
    content = {
        "shop": draft.shop, "order_id": draft.order_id, "order_number": draft.order_number,
        "currency": draft.currency, "decimals": draft.decimals, "total": draft.total,
        "created_at": draft.created_at, "buyer": buyer, "lines": lines,
        "customer_note": draft.customer_note, "notes": list(draft.notes),
    }
    return _digest(content)


def _digest(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")
