"""Poison deliveries, each followed by a normal order, through the webhook, the worker and the
e-Cont.md simulator (real HTTP on loopback), on both databases: the normal order is still
invoiced, and the poison one is visible -- an invalid row, or an invalid delivery when the
order cannot be identified -- with a short reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.dispatch.worker import Worker
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import Delivery, OrderSync
from bridge.web import create_app
from bridge.woocommerce.php_json import php_json_encode
from sandbox.econt import RunningSimulator, SimulatorState, run_simulator
from sandbox.woocommerce.samples import build_order
from sandbox.woocommerce.sender import WooCommerceWebhook, send_with_test_client
from tests.conftest import CLIENT_ID, SHOP, TOKEN, WEBHOOK_SECRET

POISON, NORMAL = 4001, 5001
PATH = f"/webhooks/woocommerce/{SHOP}"
#: every reason an operator sees stays short, however large the poison
REASON_BOUND = 4000


def _order_bytes(order_id: int, **changes: Any) -> bytes:
    order = build_order(order_id=order_id)
    order.update(changes)
    return php_json_encode(order)


def _too_deep(order_id: int) -> bytes:
    body = _order_bytes(order_id)
    return body[:-1] + b',"meta":' + b"[" * 1000 + b"]" * 1000 + b"}"


def _id_past_bigint(order_id: int) -> bytes:  # PHP would never send it; a broken plugin might
    return _order_bytes(order_id).replace(f'"id":{order_id}'.encode(),
                                          b'"id":9223372036854775808', 1)


def _lone_surrogate(order_id: int) -> bytes:
    order = build_order(order_id=order_id)
    name = order["line_items"][0]["name"]
    return php_json_encode(order).replace(php_json_encode(name), b'"Ceai \\ud800 verde\\u0000"',
                                          1)


def _many_errors(order_id: int) -> bytes:
    return _order_bytes(order_id,
                        line_items=[{"name": "", "quantity": 0, "total": "x" * 200}] * 3000)


def poison_bodies(order_id: int) -> dict[str, bytes]:
    """Each poison order of this module for order ``order_id`` (the acceptance suite
    tests/acceptance/hostile_suite.py sends them too, under many ids)."""
    return {
        "status longer than its column": _order_bytes(order_id, status="processing-" + "x" * 40),
        "number longer than its column": _order_bytes(order_id, number="N" * 70),
        "id of 2^63": _id_past_bigint(order_id),
        "JSON nested 1,000 deep": _too_deep(order_id),
        "lone surrogate and NUL in a name": _lone_surrogate(order_id),
        "3,000 bad lines": _many_errors(order_id),
    }


POISONS = poison_bodies(POISON)


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=SimulatorState(accounts=[(CLIENT_ID, TOKEN)])) as running:
        yield running


@pytest.fixture
def bridge(make_settings: Any, simulator: RunningSimulator) -> Iterator[Any]:
    settings = make_settings({"dispatch": {"read_timeout": "2s", "connect_timeout": "1s"}},
                             upstream_url=simulator.url)
    db = Database.from_settings(settings.database)
    upgrade(db)
    yield settings, db, create_app(settings, db=db).test_client(), Worker(settings, db)
    db.dispose()


def deliver(client: FlaskClient, body: bytes) -> None:
    hook = WooCommerceWebhook(delivery_url=f"http://localhost{PATH}", secret=WEBHOOK_SECRET)
    response = send_with_test_client(client, PATH, hook.build("order.created", body=body))
    assert response.status_code == 200, response.get_data()


@pytest.mark.parametrize("poison", list(POISONS), ids=list(POISONS))
def test_a_poison_delivery_never_stops_the_next_order(bridge: Any, simulator: RunningSimulator,
                                                      poison: str) -> None:
    _settings, db, client, worker = bridge
    deliver(client, POISONS[poison])
    deliver(client, php_json_encode(build_order(order_id=NORMAL)))

    worker.drain(timeout=30)

    assert simulator.state.invoice_count(NORMAL, account=CLIENT_ID) == 1
    with db.read() as session:
        rows = {row.order_id: row for row in session.execute(select(OrderSync)).scalars()}
        stored = list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())
    assert rows[NORMAL].state == "synced"
    assert [d.status for d in stored] == ["processed", "processed"]
    outcome, reason = stored[0].outcome, stored[0].reason or ""
    assert len(reason) <= REASON_BOUND
    if poison == "lone surrogate and NUL in a name":
        # sanitised, stored (a JSON column on PostgreSQL) and invoiced like any order
        assert rows[POISON].state == "synced"
        [invoice] = simulator.state.invoices(order_id=POISON, account=CLIENT_ID)
        assert invoice.body["items"]["1"]["product_name"] == "Ceai  verde"  # removed, not replaced
    elif poison == "id of 2^63":
        assert outcome == "invalid" and reason.startswith("cannot identify the order: id:")
        assert POISON not in rows
    else:
        assert outcome == "invalid", reason
        row = rows[POISON]
        assert row.state == "invalid" and len(row.last_error) <= REASON_BOUND
        field = {"status longer than its column": "status:",
                 "number longer than its column": "number:",
                 "JSON nested 1,000 deep": "nested deeper than 64 levels",
                 "3,000 bad lines": "more fields"}[poison]
        assert field in row.last_error, row.last_error
        assert simulator.state.invoice_count(POISON, account=CLIENT_ID) == 0


def test_a_cut_off_body_still_marks_its_order_invalid(bridge: Any) -> None:
    _settings, db, client, worker = bridge
    whole = php_json_encode(build_order(order_id=POISON))
    deliver(client, whole[:len(whole) // 2])  # e.g. a proxy that cut the request short

    worker.drain(timeout=30)

    with db.read() as session:
        row = session.execute(select(OrderSync)).scalar_one()
    assert row.order_id == POISON and row.state == "invalid"
    assert "body is not valid JSON" in row.last_error
