"""The shop's echo of our own write-back.

Writing an invoice's meta to an order (``bridge.writeback``) saves the order, and
WooCommerce answers every save with an ``order.updated`` webhook. That delivery differs
from the snapshot the row was built from only in the bridge's meta (keys starting with
``_invoice_bridge_``, their meta ids) and the modification date. It is recognised here and
changes nothing: no snapshot applied, no upstream call, no new write-back -- otherwise every
write-back would come back as a change, and a change would be written back again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.mapping.woocommerce import OWN_META_PREFIX as META_PREFIX

#: what every save changes
_VOLATILE = ("date_modified", "date_modified_gmt")


def has_own_meta(order: Mapping[str, Any]) -> bool:
    """Whether the order carries any meta the bridge writes (only then can it be an echo;
    other orders are never compared, so they cost nothing)."""
    entries = order.get("meta_data")
    return isinstance(entries, list) and any(
        isinstance(entry, Mapping) and str(entry.get("key", "")).startswith(META_PREFIX)
        for entry in entries)


def is_echo(order: Mapping[str, Any], previous: Mapping[str, Any] | None) -> bool:
    """Whether ``order`` is ``previous`` plus only the bridge's own meta and a new
    modification date."""
    return previous is not None and _comparable(order) == _comparable(previous)


def _comparable(order: Mapping[str, Any]) -> dict[str, Any]:
    view = {key: value for key, value in order.items() if key not in _VOLATILE}
    entries = order.get("meta_data")
    if isinstance(entries, list):
        view["meta_data"] = [entry for entry in entries if not (
            isinstance(entry, Mapping) and str(entry.get("key", "")).startswith(META_PREFIX))]
    return view
