"""What the shop is told about an order: a note for the state its row stopped in, and the
``_invoice_bridge_*`` meta. Pure functions of the row, bounded whatever the row holds."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from bridge.mapping.woocommerce import OWN_META_PREFIX
from bridge.storage.models import OrderSync
from bridge.storage.states import SyncState

#: the prefix of every meta key the bridge writes (and the intake ignores)
META_PREFIX = OWN_META_PREFIX
STATE_META = f"{META_PREFIX}state"
INVOICE_ID_META = f"{META_PREFIX}invoice_id"
INVOICE_NUMBER_META = f"{META_PREFIX}invoice_number"
INVOICE_URL_META = f"{META_PREFIX}invoice_url"
#: what the order shows, as the key of ``order_writebacks.target``: written last, so an
#: order whose meta holds it has its note too
KEY_META = f"{META_PREFIX}key"

#: longest reason quoted in a note, and longest note: a shop's order screen is no log
REASON_LIMIT = 500
NOTE_LIMIT = 1000
#: longest invoice id / number / URL copied into meta (the upstream chooses them)
META_LIMIT = 255


@dataclass(frozen=True)
class WriteBack:
    """What one order is to show."""

    key: str
    note: str
    customer_note: bool
    meta: dict[str, str]

    def payload(self) -> dict[str, Any]:
        return {"note": self.note, "customer_note": self.customer_note, "meta": self.meta}


def for_row(row: OrderSync, *, service: str, invoice_url: str | None,
            customer_note: bool) -> WriteBack:
    """The note and meta for ``row``'s state (one of ``WRITTEN_BACK_STATES``). ``service``
    is the invoicing service's name ("e-Cont.md"). Only an invoice note may be a customer
    note: a failure's reason is for the shop's staff."""
    state = str(row.state)
    invoice_id = _clip(row.invoice_id or "", META_LIMIT)
    number = _clip(row.invoice_number or "", META_LIMIT)
    url = _clip(invoice_url or "", META_LIMIT)
    reason = _reason(row.last_error)
    if state == SyncState.SYNCED:
        key = _key(state, row.invoice_id or "", row.invoice_number or "")
        shown = number or invoice_id
        note = (f"Invoice {shown} issued in {service}" if shown
                else f"An invoice was issued in {service} (its number was not returned)")
        note += f": {url}" if url else "."
    else:
        key = _key(state, reason)
        note = _problem_note(state, service, reason)
    meta = {STATE_META: state, INVOICE_ID_META: invoice_id, INVOICE_NUMBER_META: number,
            INVOICE_URL_META: url, KEY_META: key}
    return WriteBack(key=key, note=_clip(note, NOTE_LIMIT),
                     customer_note=customer_note and state == SyncState.SYNCED, meta=meta)


def _problem_note(state: str, service: str, reason: str) -> str:
    if state == SyncState.FAILED:
        return (f"No invoice: {service} refused it or could not be reached: {reason}. Fix the "
                "order and press Update: the bridge will try again.")
    if state == SyncState.INVALID:
        return (f"No invoice: the order cannot be invoiced as it is: {reason}. Fix it and "
                "press Update: the bridge will try again.")
    if state == SyncState.REVIEW:
        return (f"Invoice on hold for a person's check: {reason}. Whoever runs invoice-bridge "
                "decides (acknowledge or resync); nothing more is sent until then.")
    return f"Not invoiced: {reason}."


def _reason(error: str | None) -> str:
    text = re.sub(r"\s+", " ", error or "no reason was recorded").strip().rstrip(".")
    return _clip(text, REASON_LIMIT)


def _key(state: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:24]
    return f"{state}:{digest}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def same_note(a: str, b: str) -> bool:
    """Whether a note read back from the shop is ours (whitespace aside)."""
    return " ".join(a.split()) == " ".join(b.split())
