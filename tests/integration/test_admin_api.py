"""The admin API: bearer auth, one order's full story, and safe resync."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.config.model import Settings
from bridge.dispatch.worker import Worker
from bridge.intake.process import DeliveryProcessor
from bridge.storage.database import Database
from bridge.storage.models import OrderSync, SyncEvent
from bridge.upstreams.registry import UpstreamRegistry
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.samples import Billing, build_order
from sandbox.woocommerce.sender import WooCommerceWebhook, send_with_test_client
from tests.conftest import ADMIN_TOKEN, SHOP, WEBHOOK_SECRET, admin_headers

PATH = f"/webhooks/woocommerce/{SHOP}"


@pytest.fixture
def post_order(client: FlaskClient, db: Database, settings: Settings,
               memory_registry: UpstreamRegistry) -> Any:
    hook = WooCommerceWebhook(delivery_url=f"http://localhost{PATH}", secret=WEBHOOK_SECRET)

    def _post(payload: dict[str, Any], topic: str = "order.created") -> None:
        assert send_with_test_client(client, PATH, hook.build(topic, payload)).status_code == 200
        DeliveryProcessor(db, settings, memory_registry).process_pending()
    return _post


def drain(settings: Settings, db: Database, registry: UpstreamRegistry) -> None:
    Worker(settings, db, upstreams=registry).drain()


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", f"Basic {ADMIN_TOKEN}",
                                    "Bearer", f"bearer  {ADMIN_TOKEN}x"])
def test_requires_a_valid_bearer_token(client: FlaskClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get(f"/admin/api/orders/{SHOP}/1", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": {
        "code": "unauthorized", "message": "a valid admin bearer token is required"}}


def test_unknown_order_is_404(client: FlaskClient) -> None:
    response = client.get(f"/admin/api/orders/{SHOP}/999", headers=admin_headers())
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_order_view_shows_row_attempts_and_deliveries(client: FlaskClient, post_order: Any,
                                                      settings: Settings, db: Database,
                                                      memory_registry: UpstreamRegistry,
                                                      memory_upstream: InMemoryUpstream) -> None:
    post_order(build_order(order_id=77))
    post_order(build_order(order_id=77), topic="order.updated")
    drain(settings, db, memory_registry)
    body = client.get(f"/admin/api/orders/{SHOP}/77", headers=admin_headers()).get_json()
    order = body["order"]
    assert order["state"] == "synced"
    assert order["invoice_id"] == memory_upstream.invoices[0].invoice_id
    assert order["attempts"] == 1 and order["payload"]["order_id"] == 77
    assert [a["outcome"] for a in body["attempts"]] == ["created"]
    assert body["attempts"][0]["duration_ms"] is not None
    assert [d["outcome"] for d in body["deliveries"]] == ["unchanged", "applied"]
    assert body["deliveries"][0]["topic"] == "order.updated"


def test_resync_of_an_invalid_order_remaps_with_todays_config(
        client: FlaskClient, post_order: Any, make_settings: Any, db: Database,
        memory_upstream: InMemoryUpstream, tmp_path: Path) -> None:
    # A checkout plugin stores a 5-digit customer number under the key the config reads as
    # IDNO, so the order is invalid. The operator points the config elsewhere and resyncs.
    post_order(build_order(order_id=6, billing=Billing(fiscal_code="12345")))
    with db.read() as session:
        row = session.execute(select(OrderSync).where(OrderSync.order_id == 6)).scalar_one()
        assert row.state == "invalid" and "meta_data[_billing_fiscal_code]" in row.last_error
    from bridge.web import create_app

    fixed = make_settings({"shops": [{"idno_meta_keys": ["_other_key"]}]})
    registry = UpstreamRegistry(fixed, overrides={SHOP: memory_upstream})
    fixed_client = create_app(fixed, db=db, upstreams=registry).test_client()
    response = fixed_client.post(f"/admin/api/orders/{SHOP}/6/resync", headers=admin_headers())
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["remapped"] is True
    assert response.get_json()["order"]["state"] == "pending"
    with db.read() as session:
        events = session.execute(select(SyncEvent.detail)).scalars().all()
    assert any("resync" in e for e in events)


def test_resync_refuses_what_could_duplicate(client: FlaskClient, post_order: Any,
                                             settings: Settings, db: Database,
                                             memory_registry: UpstreamRegistry,
                                             memory_upstream: InMemoryUpstream) -> None:
    post_order(build_order(order_id=8))
    drain(settings, db, memory_registry)
    url = f"/admin/api/orders/{SHOP}/8/resync"
    refused = client.post(url, headers=admin_headers())
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "already_invoiced"
    forced = client.post(url, headers=admin_headers(), json={"force": True})
    assert forced.status_code == 202
    drain(settings, db, memory_registry)
    assert len(memory_upstream.invoices_for(8)) == 2  # the operator asked for it


def test_resync_of_a_failed_order_sends_it_again(client: FlaskClient, post_order: Any,
                                                 settings: Settings, db: Database,
                                                 memory_registry: UpstreamRegistry,
                                                 memory_upstream: InMemoryUpstream) -> None:
    from bridge.errors import UpstreamRejected

    post_order(build_order(order_id=9))
    memory_upstream.fail_next(UpstreamRejected("HTTP 400: temporarily refused", http_status=400))
    drain(settings, db, memory_registry)
    response = client.post(f"/admin/api/orders/{SHOP}/9/resync", headers=admin_headers())
    assert response.status_code == 202 and response.get_json()["order"]["attempts"] == 0
    drain(settings, db, memory_registry)
    with db.read() as session:
        row = session.execute(select(OrderSync).where(OrderSync.order_id == 9)).scalar_one()
    assert row.state == "synced" and len(memory_upstream.invoices_for(9)) == 1


def test_resync_refuses_a_status_that_does_not_invoice(client: FlaskClient,
                                                       post_order: Any) -> None:
    post_order(build_order(order_id=10, status="cancelled"))
    response = client.post(f"/admin/api/orders/{SHOP}/10/resync", headers=admin_headers())
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "status_not_invoiced"


def test_shop_pause_and_resume(client: FlaskClient, post_order: Any, settings: Settings,
                               db: Database, memory_registry: UpstreamRegistry,
                               memory_upstream: InMemoryUpstream) -> None:
    paused = client.post(f"/admin/api/shops/{SHOP}/pause", headers=admin_headers(),
                         json={"reason": "e-Cont.md maintenance tonight"})
    assert paused.status_code == 200
    assert paused.get_json()["paused_reason"] == "e-Cont.md maintenance tonight"
    post_order(build_order(order_id=12))
    drain(settings, db, memory_registry)
    assert memory_upstream.invoices == []  # received and processed, not sent
    shops = client.get("/admin/api/shops", headers=admin_headers()).get_json()["shops"]
    assert shops == [{"shop": SHOP, "paused": True,
                      "paused_reason": "e-Cont.md maintenance tonight",
                      "paused_at": shops[0]["paused_at"], "writeback_paused": False,
                      "writeback_paused_reason": None, "rows_by_state": {"pending": 1},
                      "writebacks_by_state": {}}]
    assert client.post(f"/admin/api/shops/{SHOP}/resume", headers=admin_headers()
                       ).get_json()["paused"] is False
    drain(settings, db, memory_registry)
    assert len(memory_upstream.invoices_for(12)) == 1
    assert client.post("/admin/api/shops/nope/pause", headers=admin_headers()).status_code == 404


def test_list_filters_and_keyset_pagination(client: FlaskClient, post_order: Any) -> None:
    for order_id in range(1, 8):
        post_order(build_order(order_id=order_id, number=f"WEB-{order_id:04d}",
                               status="pending" if order_id % 2 else "processing"))
    seen, cursor = [], None
    while True:
        query = {"shop": SHOP, "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/admin/api/orders", query_string=query, headers=admin_headers()
                          ).get_json()
        seen += [o["order_id"] for o in page["orders"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == list(range(1, 8)) and len(seen) == 7  # each exactly once
    skipped = client.get("/admin/api/orders", query_string={"state": "skipped"},
                         headers=admin_headers()).get_json()["orders"]
    assert sorted(o["order_id"] for o in skipped) == [1, 3, 5, 7]
    found = client.get("/admin/api/orders", query_string={"q": "WEB-0006"},
                       headers=admin_headers()).get_json()["orders"]
    assert [o["order_id"] for o in found] == [6]
    future = client.get("/admin/api/orders", query_string={"created_after": "2999-01-01T00:00Z"},
                        headers=admin_headers()).get_json()["orders"]
    assert future == []


@pytest.mark.parametrize(("query", "message"), [
    ({"state": "lost"}, "state: unknown state 'lost'"),
    ({"limit": "0"}, "limit: must be a whole number from 1 to 500"),
    ({"updated_after": "yesterday"}, "updated_after: not an ISO 8601 date-time"),
    ({"cursor": "!!!"}, "cursor: not a cursor this API returned"),
])
def test_list_rejects_bad_parameters_naming_them(client: FlaskClient, query: dict[str, str],
                                                 message: str) -> None:
    response = client.get("/admin/api/orders", query_string=query, headers=admin_headers())
    assert response.status_code == 400 and message in response.get_json()["error"]["message"]


def test_bulk_resync_by_state_is_idempotent(client: FlaskClient, post_order: Any,
                                            settings: Settings, db: Database,
                                            memory_registry: UpstreamRegistry,
                                            memory_upstream: InMemoryUpstream) -> None:
    from bridge.errors import UpstreamRejected

    for order_id in (21, 22, 23):
        post_order(build_order(order_id=order_id))
    memory_upstream.fail_next(*[UpstreamRejected("HTTP 400: down for a bit", http_status=400)] * 3)
    drain(settings, db, memory_registry)
    body = {"shop": SHOP, "state": "failed"}
    first = client.post("/admin/api/resync", json=body, headers=admin_headers()).get_json()
    assert first["queued"] == 3 and first["refused"] == []
    again = client.post("/admin/api/resync", json={"shop": SHOP, "order_ids": [21, 22, 23, 99]},
                        headers=admin_headers()).get_json()
    assert again["queued"] == 3 and [r["code"] for r in again["refused"]] == ["not_found"]
    drain(settings, db, memory_registry)
    assert all(len(memory_upstream.invoices_for(o)) == 1 for o in (21, 22, 23))  # not twice
    bad = client.post("/admin/api/resync", json={"shop": SHOP}, headers=admin_headers())
    assert bad.status_code == 400 and "state: required" in bad.get_json()["error"]["message"]


def test_skip_with_reason_and_acknowledge_a_review(client: FlaskClient, post_order: Any,
                                                   settings: Settings, db: Database,
                                                   memory_registry: UpstreamRegistry,
                                                   memory_upstream: InMemoryUpstream) -> None:
    from bridge.errors import UpstreamTimeout

    post_order(build_order(order_id=31))
    skipped = client.post(f"/admin/api/orders/{SHOP}/31/skip", json={"reason": "test order"},
                          headers=admin_headers()).get_json()["order"]
    assert skipped["state"] == "skipped" and "test order" in skipped["last_error"]
    assert client.post(f"/admin/api/orders/{SHOP}/31/skip", json={},
                       headers=admin_headers()).status_code == 400

    post_order(build_order(order_id=32))
    memory_upstream.fail_next(UpstreamTimeout("no answer", ambiguous=True), after_create=True)
    drain(settings, db, memory_registry)
    url = f"/admin/api/orders/{SHOP}/32/acknowledge"
    acknowledged = client.post(url, json={"invoice_id": "abc123", "note": "seen in e-Cont"},
                               headers=admin_headers()).get_json()["order"]
    assert acknowledged["state"] == "synced" and acknowledged["invoice_id"] == "abc123"
    assert client.post(url, json={}, headers=admin_headers()).status_code == 409


@pytest.mark.parametrize(("method", "url", "body", "status", "message"), [
    # a string "false" must never force a resync that may create a second invoice
    ("post", f"/admin/api/orders/{SHOP}/8/resync", {"force": "false"}, 400,
     "force: must be a bool"),
    ("post", f"/admin/api/orders/{SHOP}/8/resync", [1], 400, "must be a JSON object"),
    ("post", f"/admin/api/shops/{SHOP}/pause", {"reason": 5}, 400, "reason: must be"),
    ("get", "/admin/api/orders?limit=%C2%B2", None, 400, "limit: must be a whole number"),
    ("get", f"/admin/api/orders/{SHOP}/99999999999999999999", None, 400, "order_id: must be"),
    ("get", "/admin/api/orders?q=99999999999999999999999", None, 200, None),
])
def test_bad_input_is_a_clear_4xx_never_a_500(client: FlaskClient, post_order: Any, method: str,
                                              url: str, body: Any, status: int,
                                              message: str | None) -> None:
    post_order(build_order(order_id=8))
    response = getattr(client, method)(url, json=body, headers=admin_headers())
    assert response.status_code == status, response.get_json()
    if message:
        assert message in response.get_json()["error"]["message"]


def test_unauthorized_answers_say_how_to_authenticate(client: FlaskClient) -> None:
    response = client.get("/admin/api/shops")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_refused_resync_changes_nothing(client: FlaskClient, post_order: Any,
                                       db: Database) -> None:
    from bridge.storage.models import Delivery

    post_order(build_order(order_id=41))
    with db.read() as session:
        before = session.execute(select(OrderSync).where(OrderSync.order_id == 41)).scalar_one()
    # make the stored snapshot unmappable (as if it had arrived with a bad currency)
    with db.transaction() as session:
        delivery = session.get(Delivery, before.last_delivery_id)
        delivery.body = delivery.body.replace(b'"currency":"MDL"', b'"currency":"XX1"')
    response = client.post(f"/admin/api/orders/{SHOP}/41/resync", headers=admin_headers())
    assert response.status_code == 422 and "currency" in response.get_json()["error"]["fields"]
    with db.read() as session:
        after = session.execute(select(OrderSync).where(OrderSync.order_id == 41)).scalar_one()
        events = session.execute(select(SyncEvent)).scalars().all()
    assert (after.state, after.updated_at) == (before.state, before.updated_at)
    assert events == []


def test_skip_refuses_an_order_whose_invoice_exists(client: FlaskClient, post_order: Any,
                                                    settings: Settings, db: Database,
                                                    memory_registry: UpstreamRegistry) -> None:
    post_order(build_order(order_id=51))
    drain(settings, db, memory_registry)
    post_order(build_order(order_id=51, customer_note="changed"), topic="order.updated")
    with db.read() as session:
        assert session.execute(select(OrderSync.state).where(OrderSync.order_id == 51)
                               ).scalar_one() == "review"
    response = client.post(f"/admin/api/orders/{SHOP}/51/skip", json={"reason": "dup"},
                           headers=admin_headers())
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_invoiced"
