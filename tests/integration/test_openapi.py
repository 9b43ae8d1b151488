"""The admin API's OpenAPI document: a valid OpenAPI 3.1 document, listing exactly the routes
Flask serves under ``/admin/api``, whose schemas the real responses satisfy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from bridge.admin.openapi import API_PREFIX, openapi_document
from bridge.config.model import Settings
from bridge.dispatch.worker import Worker
from bridge.errors import UpstreamRejected, UpstreamTimeout
from bridge.intake.process import DeliveryProcessor
from bridge.storage.database import Database
from bridge.upstreams.registry import UpstreamRegistry
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.samples import Billing, build_order
from sandbox.woocommerce.sender import WooCommerceWebhook, send_with_test_client
from tests.conftest import SHOP, WEBHOOK_SECRET, admin_headers

WEBHOOK_PATH = f"/webhooks/woocommerce/{SHOP}"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
DOC_URI = "urn:invoice-bridge:admin-openapi"

ORDERS = "/orders"
ORDER = "/orders/{shop}/{order_id}"
RESYNC = "/orders/{shop}/{order_id}/resync"
SKIP = "/orders/{shop}/{order_id}/skip"
ACKNOWLEDGE = "/orders/{shop}/{order_id}/acknowledge"
BULK = "/resync"
SHOPS = "/shops"
PAUSE = "/shops/{shop}/pause"
RESUME = "/shops/{shop}/resume"


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class Contract:
    """Checks responses against the document: the status is documented for the operation,
    and the JSON body validates against that response's schema ($refs resolved in the
    document, formats such as date-time checked)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
        self.seen: set[tuple[str, str, int]] = set()

    def validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"}, registry=self.registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    def errors(self, pointer: str, body: Any) -> list[str]:
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                for e in self.validator(pointer).iter_errors(body)]

    def response_pointer(self, path: str, method: str, status: int) -> str:
        responses = self.document["paths"][path][method]["responses"]
        assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
        ref = responses[str(status)].get("$ref")
        base = ref[1:] if ref else _pointer("paths", path, method, "responses", str(status))
        return base + _pointer("content", "application/json", "schema")

    def check(self, response: TestResponse, method: str, path: str, status: int) -> Any:
        body = response.get_json()
        assert response.status_code == status, body
        assert response.mimetype == "application/json"
        errors = self.errors(self.response_pointer(path, method, status), body)
        assert errors == [], f"{method.upper()} {path} {status}: {errors}\n{body}"
        self.seen.add((path, method, status))
        return body


@pytest.fixture
def contract() -> Contract:
    return Contract(openapi_document())


@pytest.fixture
def post_order(client: FlaskClient, db: Database, settings: Settings,
               memory_registry: UpstreamRegistry) -> Any:
    hook = WooCommerceWebhook(delivery_url=f"http://localhost{WEBHOOK_PATH}",
                              secret=WEBHOOK_SECRET)

    def _post(payload: dict[str, Any], topic: str = "order.created") -> None:
        response = send_with_test_client(client, WEBHOOK_PATH, hook.build(topic, payload))
        assert response.status_code == 200
        DeliveryProcessor(db, settings, memory_registry).process_pending()
    return _post


@pytest.fixture
def drain(settings: Settings, db: Database, memory_registry: UpstreamRegistry) -> Any:
    return lambda: Worker(settings, db, upstreams=memory_registry).drain()


def _documented_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


# --- (1) the document is valid ------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": API_PREFIX}]
    assert document["security"] == [{"bearerAuth": []}]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert openapi_document("https://bridge.example/admin/api")["servers"] == [
        {"url": "https://bridge.example/admin/api"}]


def test_every_component_schema_is_used_and_every_ref_resolves(contract: Contract) -> None:
    document = contract.document
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    for ref in refs:
        assert ref.startswith("#/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]  # KeyError: dangling
    used = {ref.rsplit("/", 1)[1] for ref in refs if ref.startswith("#/components/schemas/")}
    assert set(document["components"]["schemas"]) == used
    for name in ("SyncRow", "Attempt", "Delivery", "Event", "Shop", "Error", "SyncState",
                 "ResyncOptions", "SkipRequest", "AcknowledgeRequest", "BulkResyncRequest",
                 "PauseRequest"):
        assert name in document["components"]["schemas"]


def test_every_operation_documents_its_outcomes() -> None:
    document = openapi_document()
    for path, method, operation in _documented_operations(document):
        statuses = set(operation["responses"])
        assert any(s.startswith("2") for s in statuses), (path, method)
        assert operation.get("description"), (path, method)
        if operation.get("security") == []:
            assert path == "/openapi.json"
        else:
            assert "401" in statuses, (path, method)
        if "{order_id}" in path:
            assert "404" in statuses, (path, method)
    resync = document["paths"][RESYNC]["post"]
    assert {"401", "404", "409", "422"} <= set(resync["responses"])
    assert "force" in resync["description"] and "second invoice" in resync["description"]


def test_sync_row_documents_every_field_of_row_view_with_the_state_enum() -> None:
    from bridge.admin.views import row_view
    from bridge.storage.models import OrderSync
    from bridge.storage.states import SyncState

    schemas = openapi_document()["components"]["schemas"]
    row = row_view(OrderSync(), with_payload=True)
    sync_row = schemas["SyncRow"]
    assert set(sync_row["properties"]) == set(row)
    assert set(sync_row["required"]) == set(row) - {"payload"}
    assert all("type" in s or "$ref" in s for s in sync_row["properties"].values())
    assert sync_row["properties"]["state"] == {"$ref": "#/components/schemas/SyncState"}
    assert schemas["SyncState"]["enum"] == [s.value for s in SyncState]


# --- (2) the document lists exactly the routes ---------------------------------------------


def _flask_operations(app: Flask) -> dict[tuple[str, str], dict[str, str]]:
    """(path, method) -> {parameter: converter} for every rule under /admin/api."""
    operations = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        converters = {name: kind or "default" for kind, name in
                      re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule)}
        path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule[len(API_PREFIX):])
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            operations[(path, method.lower())] = converters
    return operations


def test_documented_operations_are_exactly_the_registered_routes(app: Flask) -> None:
    document = openapi_document()
    documented = {(path, method) for path, method, _ in _documented_operations(document)}
    registered = _flask_operations(app)
    assert len(registered) >= 10
    assert documented == set(registered)


def test_path_parameters_match_the_route_converters(app: Flask) -> None:
    document = openapi_document()
    components = document["components"]["parameters"]
    for (path, method), converters in _flask_operations(app).items():
        operation = document["paths"][path][method]
        parameters = [components[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                      for p in operation.get("parameters", [])]
        in_path = {p["name"]: p for p in parameters if p["in"] == "path"}
        assert set(in_path) == set(converters), (path, method)
        for name, kind in converters.items():
            assert in_path[name]["required"] is True
            expected = "integer" if kind in ("int", "order_id") else "string"
            assert in_path[name]["schema"]["type"] == expected, (path, name)


# --- (3) real responses validate against the documented schemas -----------------------------


def test_the_contract_rejects_bodies_that_differ_from_the_document(contract: Contract) -> None:
    # Guard against a vacuous check: a wrong body must fail.
    row_pointer = "/components/schemas/SyncRow"
    good_row = {"id": 1, "shop": SHOP, "order_id": 1, "order_number": None,
                "order_status": None, "state": "pending", "upstream": "econt",
                "invoice_id": None, "invoice_number": None, "attempts": 0,
                "next_attempt_at": None, "first_attempt_at": None, "last_error": None,
                "last_http_status": None, "content_hash": None, "synced_hash": None,
                "snapshot_modified_at": None, "deleted_in_shop": False, "lease_owner": None,
                "lease_until": None, "synced_at": None,
                "created_at": "2026-11-22T10:00:00+00:00",
                "updated_at": "2026-11-22T10:00:00+00:00"}
    assert contract.errors(row_pointer, good_row) == []
    for change in ({"state": "lost"}, {"created_at": "yesterday"}, {"surprise": 1},
                   {"attempts": "0"}, {"deleted_in_shop": None}):
        assert contract.errors(row_pointer, {**good_row, **change}), change
    without = dict(good_row)
    del without["updated_at"]
    assert contract.errors(row_pointer, without)
    skip_404 = contract.response_pointer(SKIP, "post", 404)
    assert contract.errors(skip_404, {"error": {"code": "unknown_shop", "message": "x"}})


def test_order_operations_answer_as_documented(client: FlaskClient, contract: Contract,
                                               post_order: Any, drain: Any,
                                               memory_upstream: InMemoryUpstream) -> None:
    h = admin_headers()
    post_order(build_order(order_id=1, number="WEB-0001"))
    drain()  # 1: synced
    post_order(build_order(order_id=2))
    memory_upstream.fail_next(UpstreamTimeout("x", ambiguous=True), after_create=True)
    drain()  # 2: review (the invoice may exist)
    post_order(build_order(order_id=3))
    memory_upstream.fail_next(UpstreamRejected("HTTP 400: refused", http_status=400))
    drain()  # 3: failed
    post_order(build_order(order_id=4, status="cancelled"))  # 4: skipped
    post_order(build_order(order_id=5, billing=Billing(fiscal_code="12345")))  # 5: invalid

    def list_orders(**query: Any) -> TestResponse:
        return client.get(url(ORDERS), query_string=query, headers=h)

    # list, and a second page through the cursor
    page = contract.check(list_orders(limit=3), "get", ORDERS, 200)
    assert len(page["orders"]) == 3 and page["next_cursor"] is not None
    assert all("payload" not in row for row in page["orders"])
    rest = contract.check(list_orders(limit=3, cursor=page["next_cursor"]), "get", ORDERS, 200)
    assert rest["next_cursor"] is None
    states = {row["order_id"]: row["state"] for row in page["orders"] + rest["orders"]}
    assert states == {1: "synced", 2: "review", 3: "failed", 4: "skipped", 5: "invalid"}
    filtered = contract.check(list_orders(state="review,failed", shop=SHOP, q="3"), "get",
                              ORDERS, 200)
    assert [row["order_id"] for row in filtered["orders"]] == [3]

    # single resync (202), forced past already_invoiced; then the full story of the order
    queued = contract.check(client.post(url(RESYNC, 1), json={"force": True}, headers=h),
                            "post", RESYNC, 202)
    assert queued["queued"] == 1 and queued["order"]["state"] == "pending"
    detail = contract.check(client.get(url(ORDER, 1), headers=h), "get", ORDER, 200)
    assert detail["order"]["payload"]["order_id"] == 1
    assert [a["outcome"] for a in detail["attempts"]] == ["created"]
    assert [d["topic"] for d in detail["deliveries"]] == ["order.created"]
    assert any("resync (forced)" in e["detail"] for e in detail["events"])
    invalid = contract.check(client.get(url(ORDER, 5), headers=h), "get", ORDER, 200)
    assert invalid["order"]["payload"] is None and invalid["attempts"] == []

    # bulk resync, by state and by ids (with refusals)
    by_state = contract.check(client.post(url(BULK), json={"shop": SHOP, "state": "failed"},
                                          headers=h), "post", BULK, 202)
    assert by_state["order_ids"] == [3] and by_state["queued"] == 1
    by_ids = contract.check(client.post(url(BULK), json={"shop": SHOP, "order_ids": [1, 4, 5, 99]},
                                        headers=h), "post", BULK, 202)
    assert by_ids["queued"] == 0
    assert [(r["order_id"], r["code"]) for r in by_ids["refused"]] == [
        (1, "already_invoiced"), (4, "status_not_invoiced"), (5, "invalid_order"),
        (99, "not_found")]

    # skip, acknowledge
    skipped = contract.check(client.post(url(SKIP, 3), json={"reason": "test order"},
                                         headers=h), "post", SKIP, 200)
    assert skipped["order"]["state"] == "skipped"
    acknowledged = contract.check(
        client.post(url(ACKNOWLEDGE, 2), json={"invoice_id": "inv-2", "note": "seen it"},
                    headers=h), "post", ACKNOWLEDGE, 200)
    assert acknowledged["order"]["state"] == "synced"
    assert acknowledged["order"]["invoice_id"] == "inv-2"

    # refusals: 409, 422, 404, 400 -- each with a code the document lists for it
    conflicts = [
        (client.post(url(RESYNC, 1), headers=h), RESYNC, "already_invoiced"),
        (client.post(url(RESYNC, 4), headers=h), RESYNC, "status_not_invoiced"),
        (client.post(url(SKIP, 2), json={"reason": "r"}, headers=h), SKIP,
         "already_invoiced"),
        (client.post(url(ACKNOWLEDGE, 1), headers=h), ACKNOWLEDGE, "not_in_review"),
    ]
    for response, path, code in conflicts:
        assert contract.check(response, "post", path, 409)["error"]["code"] == code
    unmappable = contract.check(client.post(url(RESYNC, 5), headers=h), "post", RESYNC, 422)
    assert unmappable["error"]["code"] == "invalid_order"
    assert "meta_data[_billing_fiscal_code]" in unmappable["error"]["fields"]

    missing = [
        (client.get(url(ORDER, 999), headers=h), "get", ORDER, "not_found"),
        (client.post(url(RESYNC, 999), headers=h), "post", RESYNC, "not_found"),
        (client.post(url(RESYNC, 1, shop="nope"), headers=h), "post", RESYNC, "unknown_shop"),
        (client.post(url(SKIP, 999), json={"reason": "r"}, headers=h), "post", SKIP,
         "not_found"),
        (client.post(url(ACKNOWLEDGE, 999), headers=h), "post", ACKNOWLEDGE, "not_found"),
        (client.post(url(BULK), json={"shop": "nope", "state": "failed"}, headers=h), "post", BULK,
         "unknown_shop"),
    ]
    for response, method, path, code in missing:
        assert contract.check(response, method, path, 404)["error"]["code"] == code

    bad = [
        (list_orders(state="lost"), "get", ORDERS, "state"),
        (list_orders(limit="501"), "get", ORDERS, "limit"),
        (list_orders(created_before="soon"), "get", ORDERS, "created_before"),
        (list_orders(cursor="!!!"), "get", ORDERS, "cursor"),
        (client.post(url(SKIP, 4), json={}, headers=h), "post", SKIP, "reason"),
        (client.post(url(SKIP, 4), json={"reason": "  "}, headers=h), "post", SKIP, "reason"),
        (client.post(url(ACKNOWLEDGE, 2), json={"invoice_id": 5}, headers=h), "post",
         ACKNOWLEDGE, "invoice_id"),
        (client.post(url(BULK), json={"shop": SHOP}, headers=h), "post", BULK, "state"),
        (client.post(url(BULK), json={"shop": SHOP, "order_ids": []}, headers=h), "post", BULK,
         "order_ids"),
        (client.post(url(BULK), json={"shop": SHOP, "state": "sending"}, headers=h), "post", BULK,
         "state"),
        (client.post(url(BULK), json={"shop": SHOP, "state": "failed", "force": "yes"}, headers=h),
         "post", BULK, "force"),
    ]
    for response, method, path, field in bad:
        body = contract.check(response, method, path, 400)
        assert body["error"]["message"].startswith(f"{field}:"), body

    # every order operation was checked for its success status
    order_operations = {(ORDERS, "get", 200), (ORDER, "get", 200), (RESYNC, "post", 202),
                        (SKIP, "post", 200), (ACKNOWLEDGE, "post", 200), (BULK, "post", 202)}
    assert order_operations <= contract.seen


def test_shop_operations_answer_as_documented(client: FlaskClient, contract: Contract,
                                              post_order: Any) -> None:
    h = admin_headers()
    post_order(build_order(order_id=7))
    shops = contract.check(client.get(url(SHOPS), headers=h), "get", SHOPS, 200)["shops"]
    assert shops == [{"shop": SHOP, "paused": False, "paused_reason": None, "paused_at": None,
                      "writeback_paused": False, "writeback_paused_reason": None,
                      "rows_by_state": {"pending": 1}, "writebacks_by_state": {}}]
    paused = contract.check(client.post(url(PAUSE), json={"reason": "maintenance"}, headers=h),
                            "post", PAUSE, 200)
    assert paused["paused"] is True and paused["paused_reason"] == "maintenance"
    assert "rows_by_state" not in paused
    listed = contract.check(client.get(url(SHOPS), headers=h), "get", SHOPS, 200)["shops"]
    assert listed[0]["paused"] is True and listed[0]["paused_at"] == paused["paused_at"]
    by_default = contract.check(client.post(url(PAUSE, shop=SHOP), headers=h), "post",
                                PAUSE, 200)
    assert by_default["paused_reason"] == "paused by admin-token-0"
    resumed = contract.check(client.post(url(RESUME), headers=h), "post", RESUME, 200)
    assert resumed == {"shop": SHOP, "paused": False, "paused_reason": None,
                       "paused_at": None, "writeback_paused": False,
                       "writeback_paused_reason": None}
    for path in (PAUSE, RESUME):
        body = contract.check(client.post(url(path, shop="nope"), headers=h), "post", path,
                              404)
        assert body["error"]["code"] == "unknown_shop"


@pytest.mark.parametrize(("method", "path", "template"), [
    ("get", ORDERS, ORDERS),
    ("get", f"/orders/{SHOP}/1", ORDER),
    ("post", f"/orders/{SHOP}/1/resync", RESYNC),
    ("post", f"/orders/{SHOP}/1/skip", SKIP),
    ("post", f"/orders/{SHOP}/1/acknowledge", ACKNOWLEDGE),
    ("post", BULK, BULK),
    ("get", SHOPS, SHOPS),
    ("post", f"/shops/{SHOP}/pause", PAUSE),
    ("post", f"/shops/{SHOP}/resume", RESUME),
])
def test_every_protected_operation_answers_401_as_documented(
        client: FlaskClient, contract: Contract, method: str, path: str, template: str) -> None:
    response = client.open(API_PREFIX + path, method=method.upper(), json={},
                           headers={"Authorization": "Bearer not-a-token"})
    body = contract.check(response, method, template, 401)
    assert body["error"]["code"] == "unauthorized"


# --- (4) the document is served without a token; the rest is not ---------------------------


def test_openapi_json_is_served_without_a_token(client: FlaskClient,
                                                contract: Contract) -> None:
    served = client.get(f"{API_PREFIX}/openapi.json")
    assert served.status_code == 200 and served.mimetype == "application/json"
    document = served.get_json()
    assert document == openapi_document(API_PREFIX)
    validate(document)
    assert contract.errors(contract.response_pointer("/openapi.json", "get", 200),
                           document) == []
    with_token = client.get(f"{API_PREFIX}/openapi.json", headers=admin_headers())
    assert with_token.status_code == 200 and with_token.get_json() == document
    refused = client.get(f"{API_PREFIX}/shops")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"


def test_openapi_server_url_follows_the_mount_point(client: FlaskClient) -> None:
    # mounted under /bridge (SCRIPT_NAME), e.g. behind a reverse proxy's path prefix
    served = client.get(f"{API_PREFIX}/openapi.json", base_url="http://localhost/bridge")
    assert served.status_code == 200
    assert served.get_json()["servers"] == [{"url": f"/bridge{API_PREFIX}"}]


def url(template: str, order_id: int | None = None, *, shop: str = SHOP) -> str:
    """A real path for a documented path template."""
    path = template.replace("{shop}", shop)
    if order_id is not None:
        path = path.replace("{order_id}", str(order_id))
    return API_PREFIX + path
