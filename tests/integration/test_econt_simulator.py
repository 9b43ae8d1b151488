"""The e-Cont.md simulator over real HTTP on 127.0.0.1: vendor endpoint, control API, faults."""

from __future__ import annotations

import copy
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.client import RemoteDisconnected
from typing import Any

import pytest
import requests

from bridge.upstreams.econt.assumptions import (
    DUPLICATE_HTTP_STATUS,
    DUPLICATE_ORDER_CODE,
    INVOICE_ID_FIELD,
    INVOICE_NUMBER_FIELD,
    PUT_INVOICE_PATH,
    RETRY_AFTER_HEADER,
    STATUS_FAIL,
    STATUS_OK,
    SUCCESS_HTTP_STATUS,
    VALIDATION_HTTP_STATUS,
    is_valid_key,
)
from sandbox.econt import (
    DEMO_CLIENT_ID,
    DEMO_TOKEN,
    SANDBOX_PREFIX,
    RunningSimulator,
    SimulatorState,
    main,
    run_simulator,
    serve_forever,
    validate_invoice_request,
)

HEX32 = re.compile(r"^[0-9a-f]{32}$")
TIMEOUT = 5
OTHER_CLIENT = "1" * 32
OTHER_TOKEN = "2" * 32

UNAUTHORIZED_ENVELOPE = {
    "status": "FAIL",
    "data": {"name": "Unauthorized", "message": "Incorrect or missing API key", "code": 0,
             "status": 401},
}


def valid_body(order_id: int = 1207) -> dict[str, Any]:
    """A body shaped like the documented example (docs/econt.md, "Put invoice")."""
    return {
        "connect": {"client": DEMO_CLIENT_ID, "token": DEMO_TOKEN, "language": "ro-RO"},
        "order": {
            "id": order_id, "order_number": str(order_id), "amount": "245.00",
            "currency": "MDL", "date_created": "2024-05-14 09:41:07", "status": "pending",
            "customer_note": "Please call before delivery",
            "billing": {
                "company": "Example SRL", "idno": "1001600012340", "idnp": "",
                "first_name": "Ana", "last_name": "Popescu", "address_1": "str. Exemplu 10",
                "address_2": "of. 4", "city": "Chisinau", "postcode": "MD2004",
                "country": "MD", "email": "ana@example.md", "phone": "+37369000000",
            },
        },
        "items": {
            "31": {"product_id": 501, "product_sku": "KB-01", "product_name": "Keyboard",
                   "product_price": "200", "product_qnt": 1, "product_unit": "pcs",
                   "line_total": "200"},
            "32": {"product_id": 502, "product_sku": "MS-02", "product_name": "Mouse",
                   "product_price": "15", "product_qnt": 3, "product_unit": "pcs",
                   "line_total": "45"},
        },
    }


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with run_simulator() as running:
        yield running


def put(sim: RunningSimulator, body: Any, timeout: float = TIMEOUT) -> requests.Response:
    return requests.post(sim.put_invoice_url, json=body, timeout=timeout)


def put_raw(sim: RunningSimulator, text: str, content_type: str = "application/json"
            ) -> requests.Response:
    """Send exact bytes, so number literals reach the server as written."""
    return requests.post(sim.put_invoice_url, data=text.encode(), timeout=TIMEOUT,
                         headers={"Content-Type": content_type})


def control(sim: RunningSimulator, method: str, path: str, payload: Any = None) -> Any:
    response = requests.request(method, f"{sim.url}{SANDBOX_PREFIX}{path}", json=payload,
                                timeout=TIMEOUT)
    assert response.status_code < 300, response.text
    return response.json()


def invoices(sim: RunningSimulator, order_id: int | None = None) -> list[dict[str, Any]]:
    query = "" if order_id is None else f"?order_id={order_id}"
    return control(sim, "GET", f"/invoices{query}")["invoices"]


def problems_of(response: requests.Response) -> list[str]:
    """The paths named in a validation answer's "path: reason; path: reason" message."""
    assert response.status_code == VALIDATION_HTTP_STATUS, response.text
    envelope = response.json()
    assert envelope["status"] == STATUS_FAIL
    assert envelope["data"]["name"] == "Bad Request"
    assert envelope["data"]["code"] == 0
    assert envelope["data"]["status"] == VALIDATION_HTTP_STATUS
    return [part.split(": ", 1)[0] for part in envelope["data"]["message"].split("; ")]


# --- the happy path ---------------------------------------------------------------------


def test_valid_put_creates_an_invoice_and_answers_the_ok_envelope(sim: RunningSimulator) -> None:
    response = put(sim, valid_body(1207))

    assert response.status_code == SUCCESS_HTTP_STATUS
    envelope = response.json()
    assert envelope["status"] == STATUS_OK
    assert envelope["data"]["code"] == 0
    assert envelope["data"]["status"] == SUCCESS_HTTP_STATUS
    invoice = envelope["data"]["invoice"]
    assert HEX32.match(invoice[INVOICE_ID_FIELD])
    assert invoice[INVOICE_NUMBER_FIELD] == "EC-000001"
    assert invoice["order_id"] == 1207
    assert "existing" not in invoice
    [stored] = invoices(sim)
    assert stored[INVOICE_ID_FIELD] == invoice[INVOICE_ID_FIELD]
    assert stored["account"] == DEMO_CLIENT_ID
    assert sim.state.invoice_count(1207) == 1


def test_stored_body_drops_credentials_and_keeps_wire_values(sim: RunningSimulator) -> None:
    body = valid_body(5)
    body["order"]["amount"] = "__AMOUNT__"
    text = json.dumps(body).replace('"__AMOUNT__"', "245.00")  # a JSON number, as written

    assert put_raw(sim, text).status_code == SUCCESS_HTTP_STATUS

    listing = requests.get(f"{sim.url}{SANDBOX_PREFIX}/invoices", timeout=TIMEOUT)
    [stored] = json.loads(listing.text, parse_float=Decimal)["invoices"]
    assert stored["body"]["connect"] == {"language": "ro-RO"}
    assert stored["body"]["order"]["amount"] == Decimal("245.00")
    assert str(stored["body"]["order"]["amount"]) == "245.00"
    assert stored["body"]["items"]["31"]["line_total"] == "200"  # strings stay strings


def test_demo_keys_are_valid_and_registered() -> None:
    assert is_valid_key(DEMO_CLIENT_ID) and is_valid_key(DEMO_TOKEN)
    assert SimulatorState().is_known(DEMO_CLIENT_ID, DEMO_TOKEN)
    assert not SimulatorState(include_demo_account=False).is_known(DEMO_CLIENT_ID, DEMO_TOKEN)


# --- authentication ---------------------------------------------------------------------


def _without_connect(body: dict[str, Any]) -> None:
    del body["connect"]


def _connect_not_object(body: dict[str, Any]) -> None:
    body["connect"] = f"{DEMO_CLIENT_ID}:{DEMO_TOKEN}"


def _unknown_token(body: dict[str, Any]) -> None:
    body["connect"]["token"] = "f" * 32


def _unknown_client(body: dict[str, Any]) -> None:
    body["connect"]["client"] = "e" * 32


def _upper_case_key(body: dict[str, Any]) -> None:
    body["connect"]["client"] = DEMO_CLIENT_ID.upper()


def _swapped_keys(body: dict[str, Any]) -> None:
    body["connect"]["client"], body["connect"]["token"] = DEMO_TOKEN, DEMO_CLIENT_ID


def _missing_token(body: dict[str, Any]) -> None:
    del body["connect"]["token"]


@pytest.mark.parametrize("spoil", [_without_connect, _connect_not_object, _unknown_token,
                                   _unknown_client, _upper_case_key, _swapped_keys,
                                   _missing_token])
def test_bad_or_missing_keys_answer_401(sim: RunningSimulator,
                                        spoil: Callable[[dict[str, Any]], None]) -> None:
    body = valid_body()
    spoil(body)

    response = put(sim, body)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED_ENVELOPE
    assert invoices(sim) == []


def test_keys_are_checked_before_the_body(sim: RunningSimulator) -> None:
    body = valid_body()
    body["connect"]["token"] = "f" * 32
    del body["order"]["billing"]["email"]

    assert put(sim, body).status_code == 401


def test_accounts_registered_through_the_control_api_are_accepted(sim: RunningSimulator) -> None:
    body = valid_body()
    body["connect"].update(client=OTHER_CLIENT, token=OTHER_TOKEN)
    assert put(sim, body).status_code == 401

    control(sim, "POST", "/accounts", {"client": OTHER_CLIENT, "token": OTHER_TOKEN})

    assert put(sim, body).status_code == SUCCESS_HTTP_STATUS
    assert invoices(sim)[0]["account"] == OTHER_CLIENT
    bad = requests.post(f"{sim.url}{SANDBOX_PREFIX}/accounts", timeout=TIMEOUT,
                        json={"client": "not-hex", "token": OTHER_TOKEN})
    assert bad.status_code == 400


# --- request format and validation ------------------------------------------------------


@pytest.mark.parametrize(("content_type", "text"), [
    ("text/plain", json.dumps(valid_body())),
    ("application/x-www-form-urlencoded", "order=1"),
    ("application/json", "{not json"),
    ("application/json", "[1, 2]"),
    ("application/json", '{"order": 1, "order": 2}'),
    ("application/json", '{"order": NaN}'),
])
def test_requests_that_are_not_a_json_object_answer_400(sim: RunningSimulator,
                                                        content_type: str, text: str) -> None:
    response = put_raw(sim, text, content_type)

    assert response.status_code == VALIDATION_HTTP_STATUS
    assert response.json()["status"] == STATUS_FAIL
    assert response.json()["data"]["status"] == VALIDATION_HTTP_STATUS
    assert invoices(sim) == []
    assert control(sim, "GET", "/stats")["rejects"] == {"not_json": 1}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        target[last] = value
    return apply


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        del target[last]
    return apply


def _items_as_array(body: dict[str, Any]) -> None:
    body["items"] = list(body["items"].values())


def _non_integer_item_key(body: dict[str, Any]) -> None:
    body["items"]["abc"] = body["items"].pop("31")


VALIDATION_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing email", _delete("order.billing.email"), "order.billing.email"),
    ("empty email", _set("order.billing.email", ""), "order.billing.email"),
    ("implausible email", _set("order.billing.email", "ana.example.md"), "order.billing.email"),
    ("items as array", _items_as_array, "items"),
    ("empty items", _set("items", {}), "items"),
    ("non-integer item key", _non_integer_item_key, "items.abc"),
    ("fractional quantity", _set("items.32.product_qnt", 1.5), "items.32.product_qnt"),
    ("zero quantity", _set("items.32.product_qnt", 0), "items.32.product_qnt"),
    ("quantity as string", _set("items.32.product_qnt", "3"), "items.32.product_qnt"),
    ("impossible date", _set("order.date_created", "2024-02-30 10:00:00"), "order.date_created"),
    ("ISO 8601 date", _set("order.date_created", "2024-05-14T09:41:07"), "order.date_created"),
    ("totals mismatch", _set("order.amount", "245.01"), "items"),
    ("missing language", _delete("connect.language"), "connect.language"),
    ("unknown language", _set("connect.language", "de"), "connect.language"),
    ("lower-case currency", _set("order.currency", "mdl"), "order.currency"),
    ("three-letter country", _set("order.billing.country", "MDA"), "order.billing.country"),
    ("12-digit IDNO", _set("order.billing.idno", "100160001234"), "order.billing.idno"),
    ("non-digit IDNP", _set("order.billing.idnp", "abc"), "order.billing.idnp"),
    ("order id as string", _set("order.id", "1207"), "order.id"),
    ("order id zero", _set("order.id", 0), "order.id"),
    ("order number as integer", _set("order.order_number", 1207), "order.order_number"),
    ("comma decimal amount", _set("order.amount", "245,00"), "order.amount"),
    ("missing amount", _delete("order.amount"), "order.amount"),
    ("negative amount", _set("order.amount", "-245.00"), "order.amount"),
    ("line total not a number", _set("items.31.line_total", "two hundred"), "items.31.line_total"),
    ("missing product name", _delete("items.31.product_name"), "items.31.product_name"),
    ("null phone", _set("order.billing.phone", None), "order.billing.phone"),
    ("undocumented billing field", _set("order.billing.state", "MD-CU"), "order.billing.state"),
    ("missing billing", _delete("order.billing"), "order.billing"),
    ("missing order", _delete("order"), "order"),
]


@pytest.mark.parametrize(("spoil", "path"), [(case[1], case[2]) for case in VALIDATION_CASES],
                         ids=[case[0] for case in VALIDATION_CASES])
def test_each_rule_names_its_path(sim: RunningSimulator,
                                  spoil: Callable[[dict[str, Any]], None], path: str) -> None:
    body = valid_body()
    spoil(body)

    response = put(sim, body)

    assert problems_of(response) == [path]
    assert invoices(sim) == []


def test_every_violation_is_reported_in_one_answer(sim: RunningSimulator) -> None:
    body = valid_body()
    del body["order"]["billing"]["email"]
    body["order"]["currency"] = "lei"
    body["items"]["32"]["product_qnt"] = 1.5

    response = put(sim, body)

    assert problems_of(response) == ["order.currency", "order.billing.email",
                                     "items.32.product_qnt"]
    assert control(sim, "GET", "/stats")["rejects"] == {"validation": 1}


def test_the_totals_check_can_be_switched_off(sim: RunningSimulator) -> None:
    body = valid_body()
    body["order"]["amount"] = "999.99"
    assert problems_of(put(sim, body)) == ["items"]

    control(sim, "POST", "/config", {"check_totals": False})

    assert put(sim, body).status_code == SUCCESS_HTTP_STATUS


@pytest.mark.parametrize(("amount", "lines", "accepted"), [
    # 0.1 + 0.2 != 0.3 in binary floating point: only Decimal arithmetic accepts these
    ("0.3", ("0.1", "0.2"), True),
    ('"0.30"', ("0.1", '"0.20"'), True),
    ('"245.00"', ("200", "45.0"), True),
    ("245", ('"200.00"', '"45"'), True),
    ("0.3", ("0.1", "0.21"), False),
    ('"245.00"', ("200", "45.001"), False),
])
def test_amounts_as_numbers_or_strings_are_compared_as_decimals(
        sim: RunningSimulator, amount: str, lines: tuple[str, str], accepted: bool) -> None:
    body = valid_body()
    body["order"]["amount"] = "__A__"
    body["items"]["31"]["line_total"] = body["items"]["31"]["product_price"] = "__L1__"
    body["items"]["32"].update(line_total="__L2__", product_price="__L2__", product_qnt=1)
    text = json.dumps(body).replace('"__A__"', amount)
    text = text.replace('"__L1__"', lines[0]).replace('"__L2__"', lines[1])

    response = put_raw(sim, text)

    if accepted:
        assert response.status_code == SUCCESS_HTTP_STATUS, response.text
    else:
        assert problems_of(response) == ["items"]


def test_validate_invoice_request_is_usable_directly() -> None:
    assert validate_invoice_request(valid_body()) == []
    body = valid_body()
    body["order"]["amount"] = "1.00"
    assert validate_invoice_request(body, check_totals=False) == []
    assert validate_invoice_request(body)[0].startswith("items: ")


# --- repeated order ids -----------------------------------------------------------------


def test_reject_mode_answers_the_duplicate_envelope(sim: RunningSimulator) -> None:
    first = put(sim, valid_body(77)).json()["data"]["invoice"]

    response = put(sim, valid_body(77))

    assert response.status_code == DUPLICATE_HTTP_STATUS
    envelope = response.json()
    assert envelope["status"] == STATUS_FAIL
    assert envelope["data"]["code"] == DUPLICATE_ORDER_CODE
    assert envelope["data"]["status"] == DUPLICATE_HTTP_STATUS
    assert first[INVOICE_NUMBER_FIELD] in envelope["data"]["message"]
    assert first[INVOICE_ID_FIELD] in envelope["data"]["message"]
    assert sim.state.invoice_count(77) == 1
    stats = control(sim, "GET", "/stats")
    assert stats["rejects"] == {"duplicate": 1}
    assert stats["duplicates"] == 0


def test_return_existing_mode_answers_the_first_invoice(sim: RunningSimulator) -> None:
    control(sim, "POST", "/config", {"repeated_order": "return_existing"})
    first = put(sim, valid_body(77)).json()["data"]["invoice"]

    response = put(sim, valid_body(77))

    assert response.status_code == SUCCESS_HTTP_STATUS
    again = response.json()["data"]["invoice"]
    assert again["existing"] is True
    assert again[INVOICE_ID_FIELD] == first[INVOICE_ID_FIELD]
    assert again[INVOICE_NUMBER_FIELD] == first[INVOICE_NUMBER_FIELD]
    assert sim.state.invoice_count(77) == 1
    assert control(sim, "GET", "/stats")["existing_returned"] == 1


def test_create_new_mode_creates_a_second_invoice(sim: RunningSimulator) -> None:
    control(sim, "POST", "/config", {"repeated_order": "create_new"})
    first = put(sim, valid_body(77)).json()["data"]["invoice"]

    response = put(sim, valid_body(77))

    assert response.status_code == SUCCESS_HTTP_STATUS
    second = response.json()["data"]["invoice"]
    assert second[INVOICE_ID_FIELD] != first[INVOICE_ID_FIELD]
    assert second[INVOICE_NUMBER_FIELD] != first[INVOICE_NUMBER_FIELD]
    assert sim.state.invoice_count(77) == 2
    assert len(invoices(sim, order_id=77)) == 2
    stats = control(sim, "GET", "/stats")
    assert stats["duplicates"] == 1
    assert stats["duplicate_orders"] == [{"account": DEMO_CLIENT_ID, "order_id": 77,
                                          "invoices": 2}]


def test_the_same_order_id_in_another_account_is_not_a_repeat(sim: RunningSimulator) -> None:
    sim.state.add_account(OTHER_CLIENT, OTHER_TOKEN)
    other = valid_body(77)
    other["connect"].update(client=OTHER_CLIENT, token=OTHER_TOKEN)

    assert put(sim, valid_body(77)).status_code == SUCCESS_HTTP_STATUS
    assert put(sim, other).status_code == SUCCESS_HTTP_STATUS
    assert sim.state.invoice_count(77) == 1
    assert sim.state.invoice_count(77, account=OTHER_CLIENT) == 1


# --- routes -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"),
    ("POST", "/facturare/v1/get/invoice"),
    ("POST", "/facturare/v1/put/invoice_wc"),
])
def test_unknown_paths_answer_the_yii_invalid_route_envelope(sim: RunningSimulator,
                                                             method: str, path: str) -> None:
    response = requests.request(method, sim.url + path, json=valid_body(), timeout=TIMEOUT)

    assert response.status_code == 404
    assert response.json() == {
        "status": "FAIL",
        "data": {
            "name": "Not Found", "message": "Page not found.", "code": 0, "status": 404,
            "previous": {"name": "Invalid Route",
                         "message": f'Unable to resolve the request "{path.strip("/")}".',
                         "code": 0},
        },
    }
    assert invoices(sim) == []


def test_get_on_the_invoice_path_answers_405(sim: RunningSimulator) -> None:
    response = requests.get(sim.put_invoice_url, timeout=TIMEOUT)

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json()["status"] == STATUS_FAIL
    assert response.json()["data"]["status"] == 405


# --- faults -----------------------------------------------------------------------------


def queue_fault(sim: RunningSimulator, **rule: Any) -> None:
    control(sim, "POST", "/faults", rule)


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_server_error_faults_answer_that_status_and_create_nothing(sim: RunningSimulator,
                                                                   kind: str) -> None:
    queue_fault(sim, kind=kind)

    response = put(sim, valid_body(1))

    assert response.status_code == int(kind)
    assert response.json()["status"] == STATUS_FAIL
    assert response.json()["data"]["status"] == int(kind)
    assert invoices(sim) == []
    assert control(sim, "GET", "/stats")["faults"] == {kind: 1}
    assert put(sim, valid_body(1)).status_code == SUCCESS_HTTP_STATUS  # it fired once


@pytest.mark.parametrize(("rule", "expected"), [({}, "1"), ({"retry_after": 7}, "7")])
def test_429_fault_carries_retry_after(sim: RunningSimulator, rule: dict[str, Any],
                                       expected: str) -> None:
    queue_fault(sim, kind="429", **rule)

    response = put(sim, valid_body(1))

    assert response.status_code == 429
    assert response.headers[RETRY_AFTER_HEADER] == expected
    assert response.json()["status"] == STATUS_FAIL
    assert invoices(sim) == []


def test_401_fault_answers_the_unauthorized_envelope(sim: RunningSimulator) -> None:
    queue_fault(sim, kind="401")

    response = put(sim, valid_body(1))

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED_ENVELOPE
    assert invoices(sim) == []


def test_422_fault_answers_a_validation_like_failure(sim: RunningSimulator) -> None:
    queue_fault(sim, kind="422")

    response = put(sim, valid_body(1))

    assert response.status_code == 422
    assert response.json()["status"] == STATUS_FAIL
    assert response.json()["data"]["status"] == 422
    assert invoices(sim) == []


def test_reset_fault_resets_the_connection_before_creating(sim: RunningSimulator) -> None:
    queue_fault(sim, kind="reset")

    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        put(sim, valid_body(1))

    # A real RST: ECONNRESET, not the orderly close http.client reports as RemoteDisconnected
    # (which subclasses ConnectionResetError).
    reason = caught.value.args[0].args[1]
    assert isinstance(reason, ConnectionResetError)
    assert not isinstance(reason, RemoteDisconnected)
    assert invoices(sim) == []
    assert control(sim, "GET", "/stats")["faults"] == {"reset": 1}
    assert put(sim, valid_body(1)).status_code == SUCCESS_HTTP_STATUS  # server still fine


def test_drop_after_create_fault_creates_then_closes_without_answer(
        sim: RunningSimulator) -> None:
    queue_fault(sim, kind="drop_after_create")

    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        put(sim, valid_body(1))

    assert isinstance(caught.value.args[0].args[1], RemoteDisconnected)
    assert sim.state.invoice_count(1) == 1
    # In reject mode the retry a client would make is refused as a repeat.
    assert put(sim, valid_body(1)).status_code == DUPLICATE_HTTP_STATUS


def test_slow_fault_creates_then_answers_after_the_client_gave_up(sim: RunningSimulator) -> None:
    queue_fault(sim, kind="slow", delay=1.5)

    with pytest.raises(requests.exceptions.ReadTimeout):
        put(sim, valid_body(1), timeout=0.3)

    assert sim.state.invoice_count(1) == 1


def test_slow_fault_answers_normally_to_a_patient_client(sim: RunningSimulator) -> None:
    queue_fault(sim, kind="slow", delay=0.3)
    started = time.monotonic()

    response = put(sim, valid_body(1))

    assert time.monotonic() - started >= 0.3
    assert response.status_code == SUCCESS_HTTP_STATUS
    assert response.json()["data"]["invoice"]["order_id"] == 1


def test_a_held_answer_is_listed_while_it_is_held(sim: RunningSimulator) -> None:
    queue_fault(sim, kind="slow", delay=0.8)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(put, sim, valid_body(7))
        deadline = time.monotonic() + 5
        while not sim.state.held_orders() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sim.state.held_orders() == [7]
        assert sim.state.held_orders(for_at_least=5) == []  # held for 0.8 s, not 5
        assert answer.result().status_code == SUCCESS_HTTP_STATUS
    assert sim.state.held_orders() == []


@pytest.mark.parametrize("kind", ["malformed", "empty"])
def test_mangled_answer_faults_create_and_answer_200_without_json(sim: RunningSimulator,
                                                                 kind: str) -> None:
    queue_fault(sim, kind=kind)

    response = put(sim, valid_body(1))

    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    if kind == "empty":
        assert response.content == b""
    else:
        assert response.text.startswith("<html>")
    assert sim.state.invoice_count(1) == 1


@pytest.mark.parametrize(("kind", "created"), [("gateway", 0), ("gateway_after_create", 1)])
@pytest.mark.parametrize("status", [None, 504])
def test_gateway_faults_answer_an_html_page_not_the_envelope(sim: RunningSimulator, kind: str,
                                                             created: int,
                                                             status: int | None) -> None:
    queue_fault(sim, kind=kind, **({"status": status} if status else {}))

    response = put(sim, valid_body(1))

    expected = status or 502
    assert response.status_code == expected
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<title>{expected} " in response.text
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    assert sim.state.invoice_count(1) == created
    assert control(sim, "GET", "/stats")["faults"] == {kind: 1}


def test_a_gateway_page_may_carry_any_error_status(sim: RunningSimulator) -> None:
    control(sim, "POST", "/faults", [{"kind": "gateway", "status": 401},
                                     {"kind": "gateway", "status": 429, "retry_after": 3}])

    unauthorized, throttled = put(sim, valid_body(1)), put(sim, valid_body(2))

    assert unauthorized.status_code == 401 and "401 Unauthorized" in unauthorized.text
    assert throttled.status_code == 429 and throttled.headers[RETRY_AFTER_HEADER] == "3"
    assert invoices(sim) == []


def test_times_n_applies_exactly_n_times(sim: RunningSimulator) -> None:
    queue_fault(sim, kind="503", times=3)

    statuses = [put(sim, valid_body(order_id)).status_code for order_id in range(1, 6)]

    assert statuses == [503, 503, 503, 200, 200]
    stats = control(sim, "GET", "/stats")
    assert stats["faults"] == {"503": 3}
    assert stats["pending_faults"] == 0
    assert [record["order_id"] for record in invoices(sim)] == [4, 5]


def _fired_pattern(sim: RunningSimulator, requests_count: int) -> list[bool]:
    queue_fault(sim, kind="500", probability=0.5, seed=42)
    fired = [put(sim, valid_body(order_id)).status_code == 500
             for order_id in range(1, requests_count + 1)]
    control(sim, "POST", "/reset")
    return fired


def test_probability_with_a_seed_is_reproducible(sim: RunningSimulator) -> None:
    first = _fired_pattern(sim, 20)
    second = _fired_pattern(sim, 20)

    rng = random.Random(42)
    assert first == second == [rng.random() < 0.5 for _ in range(20)]
    assert True in first and False in first


def test_faults_only_fire_on_put_requests(sim: RunningSimulator) -> None:
    queue_fault(sim, kind="500")
    requests.get(sim.url + "/elsewhere", timeout=TIMEOUT)
    requests.get(sim.put_invoice_url, timeout=TIMEOUT)
    control(sim, "GET", "/stats")

    assert put(sim, valid_body(1)).status_code == 500


def test_clearing_faults_empties_the_queue(sim: RunningSimulator) -> None:
    control(sim, "POST", "/faults", [{"kind": "500", "times": 2}, {"kind": "reset"}])
    assert len(control(sim, "GET", "/faults")["faults"]) == 2

    assert control(sim, "DELETE", "/faults") == {"faults": []}

    assert put(sim, valid_body(1)).status_code == SUCCESS_HTTP_STATUS


@pytest.mark.parametrize("rule", [
    {"kind": "418"},
    {"kind": "500", "times": 0},
    {"kind": "500", "probability": 2},
    {"kind": "500", "colour": "red"},
    {"kind": "500", "status": 502},
    {"kind": "gateway", "status": 200},
    {"kind": "gateway", "status": "502"},
    {"times": 1},
    [{"kind": "500"}, {"kind": "nope"}],
])
def test_invalid_fault_rules_are_refused_whole(sim: RunningSimulator, rule: Any) -> None:
    response = requests.post(f"{sim.url}{SANDBOX_PREFIX}/faults", json=rule, timeout=TIMEOUT)

    assert response.status_code == 400
    assert control(sim, "GET", "/faults")["faults"] == []


# --- control API ------------------------------------------------------------------------


def test_reset_forgets_invoices_and_counters_but_keeps_accounts_and_config(
        sim: RunningSimulator) -> None:
    sim.state.add_account(OTHER_CLIENT, OTHER_TOKEN)
    control(sim, "POST", "/config", {"repeated_order": "create_new"})
    put(sim, valid_body(1))
    put(sim, valid_body(1))
    queue_fault(sim, kind="500")

    stats = control(sim, "POST", "/reset")

    assert stats["invoices"] == 0 and stats["requests"] == 0 and stats["duplicates"] == 0
    assert stats["pending_faults"] == 0
    assert stats["config"]["repeated_order"] == "create_new"
    assert sim.state.is_known(OTHER_CLIENT, OTHER_TOKEN)
    created = put(sim, valid_body(1)).json()["data"]["invoice"]
    assert created[INVOICE_NUMBER_FIELD] == "EC-000001"


def test_stats_count_requests_invoices_and_rejects(sim: RunningSimulator) -> None:
    put(sim, valid_body(1))
    put(sim, valid_body(1))
    put(sim, {"connect": {}})
    requests.get(sim.url + "/nowhere", timeout=TIMEOUT)

    stats = control(sim, "GET", "/stats")

    assert stats["requests"] == 4
    assert stats["put_requests"] == 3
    assert stats["invoices_created"] == 1
    assert stats["rejects"] == {"duplicate": 1, "unauthorized": 1, "not_found": 1}
    log = control(sim, "GET", "/requests")["requests"]
    assert [entry["outcome"] for entry in log] == ["created", "duplicate", "unauthorized",
                                                   "not_found"]


@pytest.mark.parametrize("config", [{"repeated_order": "merge"}, {"latency": -1},
                                    {"check_totals": "yes"}, {"colour": "red"}])
def test_invalid_config_is_refused(sim: RunningSimulator, config: dict[str, Any]) -> None:
    response = requests.post(f"{sim.url}{SANDBOX_PREFIX}/config", json=config, timeout=TIMEOUT)

    assert response.status_code == 400
    assert control(sim, "GET", "/config") == {"repeated_order": "reject", "check_totals": True,
                                              "latency": 0.0}


def test_latency_delays_vendor_requests(sim: RunningSimulator) -> None:
    control(sim, "POST", "/config", {"latency": 0.3})
    started = time.monotonic()

    response = put(sim, valid_body(1))

    assert time.monotonic() - started >= 0.3
    assert response.status_code == SUCCESS_HTTP_STATUS


# --- concurrency and lifecycle ----------------------------------------------------------


def test_concurrent_puts_create_unique_invoices(sim: RunningSimulator) -> None:
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda order_id: put(sim, valid_body(order_id)),
                                  range(1, 51)))

    assert [r.status_code for r in responses] == [SUCCESS_HTTP_STATUS] * 50
    created = [r.json()["data"]["invoice"] for r in responses]
    assert len({c[INVOICE_ID_FIELD] for c in created}) == 50
    assert {c[INVOICE_NUMBER_FIELD] for c in created} == {f"EC-{n:06d}" for n in range(1, 51)}
    assert len(invoices(sim)) == 50
    assert control(sim, "GET", "/stats")["invoices_created"] == 50


def test_concurrent_repeats_of_one_order_create_one_invoice(sim: RunningSimulator) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: put(sim, valid_body(9)).status_code, range(20)))

    assert sorted(statuses) == [SUCCESS_HTTP_STATUS] + [DUPLICATE_HTTP_STATUS] * 19
    assert sim.state.invoice_count(9) == 1


def test_stop_closes_the_port() -> None:
    running = run_simulator()
    assert running.port > 0
    assert running.url == f"http://127.0.0.1:{running.port}"
    assert running.put_invoice_url.endswith(PUT_INVOICE_PATH)

    running.stop()

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(running.url + "/", timeout=TIMEOUT)


def test_serve_forever_prints_the_url_and_the_demo_account(
        capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    server = threading.Thread(target=serve_forever, daemon=True, kwargs={
        "port": 0, "host": "127.0.0.1", "repeated_order": "create_new",
        "accounts": [f"{OTHER_CLIENT}:{OTHER_TOKEN}"], "latency": 0.0,
        "check_totals": True, "stop_event": stop})
    server.start()
    printed = ""
    deadline = time.monotonic() + 5
    while "control API" not in printed and time.monotonic() < deadline:
        time.sleep(0.02)
        printed += capsys.readouterr().out
    try:
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", printed)
        assert url, printed
        assert DEMO_CLIENT_ID in printed and DEMO_TOKEN in printed
        body = copy.deepcopy(valid_body())
        body["connect"].update(client=OTHER_CLIENT, token=OTHER_TOKEN)
        for _ in range(2):
            response = requests.post(url.group(1) + PUT_INVOICE_PATH, json=body,
                                     timeout=TIMEOUT)
            assert response.status_code == SUCCESS_HTTP_STATUS  # create_new: both succeed
    finally:
        stop.set()
        server.join(timeout=5)
    assert not server.is_alive()


def test_main_refuses_a_malformed_account() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--port", "0", "--account", "not-a-pair"])
    assert caught.value.code == 2
