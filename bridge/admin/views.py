"""JSON shapes of rows for the admin API, dumped by the schemas of ``bridge.admin.schemas``
(so the API and its OpenAPI document agree).

Reasons (``last_error``, an attempt's ``error``, a delivery's ``reason``, an event's
``detail``) go through the log masking (``fields.Masked``): they can quote what a buyer typed
into a wrong field -- a name where the e-mail or the fiscal code belongs -- and the upstream's
answers. The order's ``payload`` is shown as sent: it is what an operator checks an invoice
against.
"""

from __future__ import annotations

from typing import Any

from bridge.admin import schemas
from bridge.storage.models import OrderSync, ShopState

_ROW = schemas.SyncRow()
_ROW_SUMMARY = schemas.SyncRowSummary()


def row_view(row: OrderSync, *, with_payload: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = (_ROW if with_payload else _ROW_SUMMARY).dump(row)
    return view


def shop_view(shop: str, state: ShopState | None, counts: dict[str, int] | None,
              writebacks: dict[str, int] | None = None) -> dict[str, Any]:
    """A configured shop; ``counts`` (its rows by state) and ``writebacks`` (its
    write-backs by state) only where the answer lists them."""
    view: dict[str, Any] = {
        "shop": shop,
        "paused": bool(state and state.paused),
        "paused_reason": state.paused_reason if state else None,
        "paused_at": state.paused_at if state else None,
        "writeback_paused": bool(state and state.writeback_paused),
        "writeback_paused_reason": state.writeback_paused_reason if state else None,
    }
    if counts is not None:
        view["rows_by_state"] = counts
    if writebacks is not None:
        view["writebacks_by_state"] = writebacks
    return view
