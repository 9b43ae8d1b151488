"""What is written back to an order, and how the intake knows the shop's echo of it."""

from __future__ import annotations

import json
from pathlib import Path

from bridge.intake import echo
from bridge.mapping.woocommerce import read_meta
from bridge.storage.models import OrderSync
from bridge.writeback import text
from sandbox.woocommerce.samples import build_order


def _row(**fields: object) -> OrderSync:
    return OrderSync(shop="shop", order_id=1, upstream="econt", **fields)


def test_a_synced_order_names_its_invoice_and_a_failed_one_its_reason_bounded() -> None:
    synced = text.for_row(_row(state="synced", invoice_id="77", invoice_number="EC-000123"),
                          service="e-Cont.md", invoice_url=None, customer_note=True)
    assert synced.note == "Invoice EC-000123 issued in e-Cont.md."
    assert synced.customer_note is True
    assert synced.meta[text.STATE_META] == "synced"
    assert synced.meta[text.KEY_META] == synced.key
    failed = text.for_row(_row(state="failed", last_error="billing.email: required\n" * 400),
                          service="e-Cont.md", invoice_url=None, customer_note=True)
    assert failed.note.startswith("No invoice: e-Cont.md refused it")
    assert "billing.email: required" in failed.note
    assert len(failed.note) <= text.NOTE_LIMIT
    assert failed.customer_note is False  # a reason is for the staff only
    assert failed.key != synced.key and len(failed.key) <= 128


def test_the_same_state_and_reason_is_the_same_key() -> None:
    first = text.for_row(_row(state="invalid", last_error="x"), service="s", invoice_url=None,
                         customer_note=False)
    again = text.for_row(_row(state="invalid", last_error="x"), service="s", invoice_url=None,
                         customer_note=False)
    other = text.for_row(_row(state="invalid", last_error="y"), service="s", invoice_url=None,
                         customer_note=False)
    assert first.key == again.key != other.key


def test_only_the_bridges_own_meta_and_the_date_make_an_echo() -> None:
    order = build_order(order_id=5)
    ours = {**order, "date_modified_gmt": "2030-01-01T00:00:00", "meta_data": [
        *order["meta_data"], {"id": 9, "key": "_invoice_bridge_state", "value": "synced"}]}
    assert echo.has_own_meta(ours) and not echo.has_own_meta(order)
    assert echo.is_echo(ours, order)
    assert not echo.is_echo({**ours, "status": "completed"}, order)
    assert not echo.is_echo(ours, None)


def test_the_bridges_own_meta_is_never_read_as_the_orders_content() -> None:
    order = {"meta_data": [{"key": "_invoice_bridge_invoice_number", "value": "EC-1"},
                           {"key": "_billing_fiscal_code", "value": "1003600036665"}]}
    assert [meta.key for meta in read_meta(order)] == ["_billing_fiscal_code"]


def test_the_version_1_fingerprints_fixture_has_no_bridge_meta() -> None:
    # so the fixture keeps matching: nothing in it is filtered out by read_meta
    fixture = json.loads((Path(__file__).parents[1] / "fixtures" / "fingerprints_v1.json")
                         .read_text())
    assert not any(echo.has_own_meta(case["order"]) for case in fixture["cases"])
