"""The REST simulator's order writes (notes, meta) and the client's write calls, over real
HTTP: the permissions, errors and meta semantics of WooCommerce (the simulator's ``writes``
module names its sources)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.config.model import WooRestSettings
from bridge.woocommerce.rest import WooRestAuthError, WooRestClient, WooRestError
from sandbox.woocommerce.rest_simulator import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    ApiKey,
    RestSimulatorState,
    RunningRestSimulator,
    run_rest_simulator,
)
from sandbox.woocommerce.samples import build_order

READ_KEY, READ_SECRET = "ck_" + "a" * 40, "cs_" + "b" * 40
CLERK_KEY, CLERK_SECRET = "ck_" + "c" * 40, "cs_" + "d" * 40


@pytest.fixture
def shop() -> Iterator[RunningRestSimulator]:
    state = RestSimulatorState(ssl=False, keys=[
        ApiKey(DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET),
        ApiKey(READ_KEY, READ_SECRET, permissions="read"),
        ApiKey(CLERK_KEY, CLERK_SECRET, can_edit_orders=False)])
    state.put_order(build_order(order_id=7))
    with run_rest_simulator(state=state) as running:
        yield running


def _client(shop: RunningRestSimulator, key: str = DEMO_CONSUMER_KEY,
            secret: str = DEMO_CONSUMER_SECRET) -> WooRestClient:
    return WooRestClient(WooRestSettings(url=shop.url, consumer_key=key,
                                         consumer_secret=secret, timeout=5), retries=0)


def test_a_read_only_key_is_refused_every_write_and_nothing_changes(
        shop: RunningRestSimulator) -> None:
    client = _client(shop, READ_KEY, READ_SECRET)
    before = shop.state.order(7)
    with pytest.raises(WooRestAuthError, match="does not have write permissions") as refused:
        client.update_order_meta(7, {"_invoice_bridge_state": "synced"})
    assert refused.value.status == 401
    assert refused.value.code == "woocommerce_rest_authentication_error"
    with pytest.raises(WooRestAuthError):
        client.add_order_note(7, "hello")
    assert shop.state.order(7) == before and shop.state.notes(7) == []
    assert client.can_write_orders() is False


def test_the_write_permission_check_changes_nothing(shop: RunningRestSimulator) -> None:
    saved: list[int] = []
    shop.state.on_save.append(lambda order: saved.append(order["id"]))
    assert _client(shop).can_write_orders() is True
    assert saved == []  # no order saved, so no webhook either


def test_a_user_who_may_not_edit_orders_gets_cannot_edit(shop: RunningRestSimulator) -> None:
    with pytest.raises(WooRestAuthError) as refused:
        _client(shop, CLERK_KEY, CLERK_SECRET).update_order_meta(7, {"k": "v"})
    assert (refused.value.status, refused.value.code) == (403, "woocommerce_rest_cannot_edit")
    with pytest.raises(WooRestAuthError) as refused:
        _client(shop, CLERK_KEY, CLERK_SECRET).add_order_note(7, "x")
    assert refused.value.code == "woocommerce_rest_cannot_create"


def test_meta_is_replaced_by_key_and_a_save_moves_the_date_and_fires_the_webhook(
        shop: RunningRestSimulator) -> None:
    saved: list[int] = []
    shop.state.on_save.append(lambda order: saved.append(order["id"]))
    client = _client(shop)
    before = (shop.state.order(7) or {})["date_modified_gmt"]
    client.update_order_meta(7, {"_invoice_bridge_state": "failed"})
    order = client.update_order_meta(7, {"_invoice_bridge_state": "synced"})
    ours = [m for m in order["meta_data"] if m["key"] == "_invoice_bridge_state"]
    assert [m["value"] for m in ours] == ["synced"]  # one entry, its value replaced
    assert order["date_modified_gmt"] > before  # the simulator's clock: now
    assert saved == [7, 7]


def test_notes_are_added_and_listed_newest_first_and_errors_are_woocommerces(
        shop: RunningRestSimulator) -> None:
    client = _client(shop)
    first = client.add_order_note(7, "first")
    second = client.add_order_note(7, "second", customer_note=True)
    assert first["customer_note"] is False and second["customer_note"] is True
    assert [note["note"] for note in client.order_notes(7)] == ["second", "first"]
    with pytest.raises(WooRestError) as missing:
        client.add_order_note(404404, "x")
    assert (missing.value.status, missing.value.code) == (404, "woocommerce_rest_order_invalid_id")
    with pytest.raises(WooRestError) as no_order:
        client.update_order_meta(404404, {"k": "v"})
    assert (no_order.value.status, no_order.value.code) == (
        400, "woocommerce_rest_shop_order_invalid_id")
    response = client.session.post(f"{shop.url}/wp-json/wc/v3/orders/7/notes",
                                   json={}, auth=(DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET))
    assert response.status_code in (400, 401)  # plain HTTP: Basic is not even looked at
