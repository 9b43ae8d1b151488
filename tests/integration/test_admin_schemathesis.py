"""schemathesis, a property-based client that reads the admin API's OpenAPI document, against
the real app in process: every operation, requests that follow the document (each must be
answered as documented) and requests that break it (each must be refused), with every check
schemathesis has, in all its phases (the document's examples, coverage of each constraint's
edges, fuzzing, and stateful sequences that follow the links it infers). The document is
generated from the schemas the server validates and answers with, so a failure here is a
real disagreement between the two.

schemathesis's engine -- the one ``schemathesis run`` drives -- runs in this process, against
the app served over loopback HTTP by waitress (as ``invoice-bridge run`` serves it), and the
test fails with each unique failure, described as the command line does. (Two shortcuts do
not work with schemathesis 4.32: its pytest integration, ``schemathesis.pytest.from_fixture``,
sets ``Node._nodeid``, which pytest 9.2 no longer has; and its in-process WSGI transport
passes ``max_redirects`` to werkzeug's client in the ``ignored_auth`` check, a TypeError.)

The database holds an order in every state a client can act on and a quarantined delivery,
and the generated paths and bodies sometimes name them, so the operations are tested beyond
their 404s. A fixed, modest number of examples, derandomized: the same cases on every run.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from sqlalchemy import update
from waitress.server import create_server

from bridge.admin.openapi import API_PREFIX
from bridge.admin.schemas import CURSOR_FORMAT
from bridge.config.model import Settings
from bridge.dispatch.worker import Worker
from bridge.errors import UpstreamRejected, UpstreamTimeout
from bridge.intake.process import DeliveryProcessor
from bridge.storage.database import Database
from bridge.storage.models import Delivery
from bridge.upstreams.registry import UpstreamRegistry
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.samples import Billing, build_order
from sandbox.woocommerce.sender import WooCommerceWebhook, send_with_test_client
from tests.conftest import ADMIN_TOKEN, SHOP, WEBHOOK_SECRET

EXAMPLES_PER_OPERATION = 25
ORDER_IDS = (1, 2, 3, 4, 5, 6)  # synced, review, failed, skipped, invalid, pending

# Cursors are opaque: only the texts the API returned are cursors (any other is a 400), and
# the document says so with a format of its own. A client can only send ours, or none.
schemathesis.openapi.format(CURSOR_FORMAT, st.one_of(
    st.just(""),
    st.builds(lambda moment, row_id: base64.urlsafe_b64encode(
        json.dumps([moment.isoformat(), row_id]).encode()).decode().rstrip("="),
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.just(UTC)),
        st.integers(min_value=1, max_value=2**63 - 1))))


@pytest.fixture
def db_url(tmp_path: Any) -> str:
    # SQLite only: this tests the document against the server, not the database (the
    # other integration tests cover both)
    return f"sqlite:///{tmp_path / 'bridge.db'}"


@pytest.fixture
def seeded_app(app: Flask, client: FlaskClient, db: Database, settings: Settings,
               memory_registry: UpstreamRegistry, memory_upstream: InMemoryUpstream) -> Flask:
    hook = WooCommerceWebhook(delivery_url=f"http://localhost/webhooks/woocommerce/{SHOP}",
                              secret=WEBHOOK_SECRET)

    def post(payload: dict[str, Any]) -> None:
        response = send_with_test_client(client, f"/webhooks/woocommerce/{SHOP}",
                                         hook.build("order.created", payload))
        assert response.status_code == 200
        DeliveryProcessor(db, settings, memory_registry).process_pending()

    def drain() -> None:
        Worker(settings, db, upstreams=memory_registry).drain()

    post(build_order(order_id=1))
    drain()  # synced
    post(build_order(order_id=2))
    memory_upstream.fail_next(UpstreamTimeout("x", ambiguous=True), after_create=True)
    drain()  # review
    post(build_order(order_id=3))
    memory_upstream.fail_next(UpstreamRejected("HTTP 400: refused", http_status=400))
    drain()  # failed
    post(build_order(order_id=4, status="cancelled"))  # skipped
    post(build_order(order_id=5, billing=Billing(fiscal_code="12345")))  # invalid
    post(build_order(order_id=6))  # pending
    with db.transaction() as session:  # one delivery whose processing "failed" too often
        session.execute(update(Delivery).where(Delivery.id == 1).values(
            status="quarantined", tries=5, reason="refused by the database"))
    return app


@pytest.fixture
def served(seeded_app: Flask) -> Iterator[str]:
    """The app on a free loopback port; its URL."""
    server = create_server(seeded_app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="schemathesis-web", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(5)


@pytest.fixture
def admin_schema(served: str) -> Any:
    config = SchemathesisConfig.from_dict({
        "seed": 1,
        "checks": {
            "enabled": True,  # every check schemathesis has
            # A valid request may still be refused for what it names: 404, 409 -- and 422, a
            # resync of an order its snapshot cannot be mapped from (`invalid_order`)
            "positive_data_acceptance": {"expected-statuses": [
                "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]},
        },
        "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION,
                       "deterministic": True, "database": "none"},
        "auth": {"openapi": {"bearerAuth": {"bearer": ADMIN_TOKEN}}},
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "workers": 1,
    })
    schema = schemathesis.openapi.from_url(f"{served}{API_PREFIX}/openapi.json", config=config)

    @schema.hook
    def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
        path = context.operation.path
        if "{order_id}" in path:
            known = st.fixed_dictionaries({"shop": st.just(SHOP),
                                           "order_id": st.sampled_from(ORDER_IDS)})
        elif "{shop}" in path:
            known = st.just({"shop": SHOP})
        elif "{delivery_id}" in path:
            known = st.fixed_dictionaries({"delivery_id": st.sampled_from(["1", "2"])})
        else:
            return strategy
        return st.one_of(strategy, known)

    @schema.hook
    def before_generate_body(context: Any, strategy: Any) -> Any:
        if context.operation.path != "/resync":
            return strategy
        return strategy.flatmap(lambda body: st.sampled_from(
            [body, {**body, "shop": SHOP}] if isinstance(body, dict) else [body]))

    return schema


def run(schema: Any) -> tuple[int, int, list[str]]:
    """Run every phase; (operations tested, cases, each unique failure and error)."""
    problems: dict[Any, str] = {}
    operations: set[str] = set()
    cases = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, (events.FatalError, events.NonFatalError)):
            problems[id(event)] = f"error: {event.info.format()}"
        recorder = getattr(event, "recorder", None)
        if not isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)) \
                or recorder is None:
            continue
        cases += len(recorder.cases)
        operations.update(node.value.operation.label for node in recorder.cases.values())
        for checks in recorder.checks.values():
            for check in checks:
                info = check.failure_info
                if info is not None and info.failure not in problems:
                    problems[info.failure] = (
                        f"{recorder.label}: {check.name}: {info.failure.title}\n"
                        f"{info.failure.message}\n{info.code_sample}")
    return len(operations), cases, list(problems.values())


def test_every_operation_answers_as_the_document_says(admin_schema: Any) -> None:
    operations, cases, problems = run(admin_schema)
    assert problems == [], f"{len(problems)} failures:\n\n" + "\n\n".join(problems)
    assert operations == 11 and cases > 11 * EXAMPLES_PER_OPERATION
