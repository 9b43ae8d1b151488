"""Fingerprints: what an invoice shows, versioned because they are stored on sync rows."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.config.model import ShopSettings
from bridge.mapping.build import map_order
from bridge.mapping.fingerprint import draft_fingerprint, matches
from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.econt.settings import EcontSettings

GOLDEN = json.loads((Path(__file__).parents[1] / "fixtures" / "fingerprints_v1.json")
                    .read_text(encoding="utf-8"))["cases"]
SHOP = ShopSettings(id="shop", webhook_secret="s", upstream=EcontSettings(
    base_url="http://127.0.0.1:1", client_id="0" * 32, token="1" * 32))


@pytest.mark.parametrize("case", GOLDEN, ids=[str(c["order"]["id"]) for c in GOLDEN])
def test_fingerprints_stored_before_the_neutral_draft_still_match(case: dict[str, Any]) -> None:
    """Rows invoiced by an earlier version hold version-1 fingerprints; the same order
    delivered again after the upgrade must read as unchanged, not "changed after
    invoicing"."""
    draft = map_order(case["order"], SHOP, EcontUpstream.rules)
    assert matches(draft, case["fingerprint"])
    assert draft_fingerprint(draft) != case["fingerprint"]  # new rows get version 2


def test_a_changed_order_does_not_match_its_old_fingerprint() -> None:
    case = GOLDEN[0]
    order = json.loads(json.dumps(case["order"]))
    order["billing"]["city"] = "Orhei"
    assert not matches(map_order(order, SHOP), case["fingerprint"])


def test_version_2_fits_the_column_and_ignores_the_status() -> None:
    draft = map_order(GOLDEN[0]["order"], SHOP)
    fingerprint = draft_fingerprint(draft)
    assert fingerprint.startswith("2:") and len(fingerprint) == 64
    completed = dataclasses.replace(draft, status="completed")
    assert draft_fingerprint(completed) == fingerprint and matches(completed, fingerprint)
    cheaper = dataclasses.replace(draft, total=draft.total - Decimal("0.01"))
    assert not matches(cheaper, fingerprint)
    assert not matches(draft, None)


def test_the_customer_id_is_read_but_moves_no_fingerprint() -> None:
    """The WooCommerce customer id says which upstream contact (Fakturoid subject) the buyer
    is; the invoice does not show it, so neither adding it to the draft nor a change of it
    makes an invoiced order look changed. The value is the version-2 fingerprint of this
    order before the draft carried the customer id."""
    order = json.loads(json.dumps(GOLDEN[0]["order"]))
    before = "2:7de23ab2d5a342d57ab6db769bb9f60787480f42e8b64e6572dbb70c0a0e92"
    assert draft_fingerprint(map_order(order, SHOP)) == before
    order["customer_id"] = 57
    draft = map_order(order, SHOP)
    assert draft.customer_id == 57 and draft_fingerprint(draft) == before
    for garbled in (-3, "57", 2**63, True, None):
        order["customer_id"] = garbled
        assert map_order(order, SHOP).customer_id == 0  # a guest, never an error
