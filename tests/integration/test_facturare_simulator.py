"""The facturare.md simulator is strict to the vendor's page: HTTP Basic with the API key and
an empty password, the error object on every error, exact-match ``filter[...]`` and
``metadata[...]``, ``expand`` -- and refuses what our assumptions rule out, so an adapter bug
shows up as a clear 400 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bridge.upstreams.facturare.assumptions import is_error_object
from sandbox.facturare import DEMO_API_KEY, FacturareState, RunningSimulator, run_simulator

AUTH = (DEMO_API_KEY, "")
CUSTOMER = {"name": "Elena Rusu", "email": "elena@mail.example", "type": "person",
            "country": "MD", "metadata": {"invoice_bridge_customer": "c1"}}


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=FacturareState()) as running:
        yield running


def call(simulator: RunningSimulator, method: str, path: str, *, auth: Any = AUTH,
         **kwargs: Any) -> requests.Response:
    return requests.request(method, simulator.url + path, auth=auth, timeout=5, **kwargs)


def refused(response: requests.Response, status: int, param: str | None = None) -> str:
    """Assert the documented error object with ``status`` (and ``param``); its message."""
    body = response.json()
    assert response.status_code == status, body
    assert is_error_object(body), body
    assert body["type"] == ("api" if status >= 500 else "invalid_request")
    if param is not None:
        assert body["param"] == param, body
    return str(body["message"])


def customer(simulator: RunningSimulator, **changes: Any) -> dict[str, Any]:
    response = call(simulator, "POST", "/customers", json={**CUSTOMER, **changes})
    assert response.status_code == 201, response.text
    return dict(response.json())


def invoice_body(customer_id: int, **changes: Any) -> dict[str, Any]:
    return {"customer": customer_id, "currency": "mdl", "date": 1741970527,
            "items": [{"name": "Ceai", "quantity": "3", "unit_cost": "155.00",
                       "taxes": [{"amount": "93.00", "rate": "20", "inclusive": False}]}],
            "metadata": {"invoice_bridge_order": "shop:1"}, **changes}


@pytest.mark.parametrize("auth", [None, ("unknown-key", ""), (DEMO_API_KEY, "secret")],
                         ids=["no-auth", "unknown-key", "a-password"])
def test_only_the_api_key_with_an_empty_password_opens_it(simulator: RunningSimulator,
                                                          auth: Any) -> None:
    message = refused(call(simulator, "GET", "/customers", auth=auth), 401)
    assert message == "Incorrect or missing API key"
    assert call(simulator, "GET", "/customers").status_code == 200


def test_a_created_invoice_has_the_amounts_the_service_computes(
        simulator: RunningSimulator) -> None:
    owner = customer(simulator)
    response = call(simulator, "POST", "/invoices", json=invoice_body(owner["id"]))
    assert response.status_code == 201
    invoice = response.json()
    assert invoice["number"].startswith("INV-") and invoice["customer"] == owner["id"]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == (465, 93, 558)
    assert invoice["paid"] is False and invoice["balance"] == 558
    read = call(simulator, "GET", f"/invoices/{invoice['id']}?expand=customer").json()
    assert read["customer"]["name"] == "Elena Rusu"


def test_filters_and_metadata_match_exactly_and_leave_out_objects_without_the_key(
        simulator: RunningSimulator) -> None:
    first = customer(simulator)
    customer(simulator, metadata={"invoice_bridge_customer": "c10"})
    customer(simulator, metadata={})
    listed = call(simulator, "GET", "/customers",
                  params={"metadata[invoice_bridge_customer]": "c1"})
    assert [c["id"] for c in listed.json()] == [first["id"]]
    assert listed.headers["X-Total-Count"] == "1"
    assert len(call(simulator, "GET", "/customers", params={"filter[country]": "MD"}).json()) \
        == 3
    invoice = call(simulator, "POST", "/invoices", json=invoice_body(first["id"])).json()
    unpaid = call(simulator, "GET", "/invoices", params={"filter[paid]": "0",
                                                         "filter[customer]": str(first["id"])})
    assert [i["id"] for i in unpaid.json()] == [invoice["id"]]
    assert call(simulator, "GET", "/invoices", params={"filter[paid]": "1"}).json() == []


def test_pages_and_their_links(simulator: RunningSimulator) -> None:
    for _ in range(3):
        customer(simulator)
    page = call(simulator, "GET", "/customers", params={"per_page": "2", "page": "2"})
    assert len(page.json()) == 1 and page.headers["X-Total-Count"] == "3"
    assert 'rel="previous"' in page.headers["Link"] and 'rel="next"' not in page.headers["Link"]


@pytest.mark.parametrize(("params", "param"), [
    ({"filter[secret]": "x"}, "filter[secret]"),
    ({"per_page": "500"}, "per_page"),
    ({"page": "0"}, "page"),
    ({"limit": "1"}, "limit"),
])
def test_list_parameters_it_does_not_know_are_refused(simulator: RunningSimulator,
                                                      params: dict[str, str],
                                                      param: str) -> None:
    refused(call(simulator, "GET", "/customers", params=params), 400, param)


@pytest.mark.parametrize(("changes", "param"), [
    ({"address3": "x"}, "address3"),
    ({"name": ""}, "name"),
    ({"email": None}, "email"),
    ({"email": "not-an-address"}, "email"),
    ({"type": "robot"}, "type"),
    ({"country": "md"}, "country"),
    ({"metadata": {f"k{n}": "v" for n in range(11)}}, "metadata"),
    ({"metadata": {"k": "v" * 256}}, "metadata[k]"),
    ({"metadata": {"k" * 41: "v"}}, "metadata[" + "k" * 41 + "]"),
    ({"metadata": {"k": 7}}, "metadata[k]"),
])
def test_a_customer_it_cannot_take_is_refused_naming_the_field(simulator: RunningSimulator,
                                                               changes: dict[str, Any],
                                                               param: str) -> None:
    refused(call(simulator, "POST", "/customers", json={**CUSTOMER, **changes}), 400, param)


@pytest.mark.parametrize(("changes", "param"), [
    ({"customer": 999}, "customer"),
    ({"customer": "1"}, "customer"),
    ({"currency": "MDL"}, "currency"),
    ({"date": "2025-03-14"}, "date"),
    ({"number": "INV-1"}, "number"),
    ({"items": []}, "items"),
    ({"items": [{"name": "x", "quantity": 0, "unit_cost": "1"}]}, "items[0].quantity"),
    ({"items": [{"name": "x", "quantity": "1", "unit_cost": "1e3"}]}, "items[0].unit_cost"),
    ({"items": [{"name": "x", "quantity": "1", "unit_cost": "1", "vat": "20"}]},
     "items[0].vat"),
    ({"items": [{"name": "x", "quantity": "1", "unit_cost": "1",
                 "taxes": [{"amount": "0.001"}]}]}, "items[0].taxes[0].amount"),
    ({"items": [{"name": "x", "quantity": "1", "unit_cost": "1",
                 "taxes": [{"amount": "1", "rate": "120"}]}]}, "items[0].taxes[0].rate"),
])
def test_an_invoice_it_cannot_take_is_refused_naming_the_field(simulator: RunningSimulator,
                                                               changes: dict[str, Any],
                                                               param: str) -> None:
    owner = customer(simulator)
    body = invoice_body(owner["id"], **changes)
    refused(call(simulator, "POST", "/invoices", json=body), 400, param)
    assert simulator.state.listing(DEMO_API_KEY, "invoices") == []


def test_every_problem_is_listed_in_one_answer(simulator: RunningSimulator) -> None:
    message = refused(call(simulator, "POST", "/customers", json={"type": "robot", "x": 1}),
                      400, "x")
    assert "name: is required" in message and "type: must be one of" in message


def test_another_businesss_customer_does_not_exist_here(simulator: RunningSimulator) -> None:
    simulator.state.add_api_key("other-business-key")
    theirs = call(simulator, "POST", "/customers", json=CUSTOMER,
                  auth=("other-business-key", "")).json()
    refused(call(simulator, "POST", "/invoices", json=invoice_body(theirs["id"])), 400,
            "customer")
    refused(call(simulator, "GET", f"/customers/{theirs['id']}"), 404)


@pytest.mark.parametrize(("request_kwargs", "fragment"), [
    ({"data": "name=Elena"}, "Content-Type must be application/json"),
    ({"data": '{"name": "a", "name": "b"}', "headers": {"Content-Type": "application/json"}},
     "duplicate key"),
    ({"data": '{"name": NaN}', "headers": {"Content-Type": "application/json"}},
     "not valid JSON"),
    ({"json": ["a list"]}, "must be a JSON object"),
])
def test_a_body_that_is_not_a_json_object_is_refused(simulator: RunningSimulator,
                                                     request_kwargs: dict[str, Any],
                                                     fragment: str) -> None:
    assert fragment in refused(call(simulator, "POST", "/customers", **request_kwargs), 400)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/estimates"), ("DELETE", "/customers/1"), ("PATCH", "/invoices/1"),
    ("GET", "/customers/abc"), ("GET", "/v1/invoices/1/lines"),
])
def test_what_is_not_there_is_a_404_with_the_error_object(simulator: RunningSimulator,
                                                          method: str, path: str) -> None:
    customer(simulator)
    refused(call(simulator, method, path), 404)


def test_faults_answer_with_the_error_object_and_apply_to_creates_only(
        simulator: RunningSimulator) -> None:
    simulator.state.add_fault("503", times=1)
    assert call(simulator, "GET", "/customers").status_code == 200  # reads take no faults
    refused(call(simulator, "POST", "/customers", json=CUSTOMER), 503)
    simulator.state.add_fault("429", times=1, retry_after=9)
    limited = call(simulator, "POST", "/customers", json=CUSTOMER)
    assert "moving too fast" in refused(limited, 429)
    assert limited.headers["Retry-After"] == "9"
    simulator.state.configure(customer_faults=False)
    simulator.state.add_fault("500", times=1)
    assert call(simulator, "POST", "/customers", json=CUSTOMER).status_code == 201
    assert simulator.state.faults()  # still queued for the next invoice or payment


def test_the_control_api(simulator: RunningSimulator) -> None:
    customer(simulator)
    control = requests.get(simulator.url + "/_sandbox/customers", timeout=5).json()
    assert control["count"] == 1 and DEMO_API_KEY not in str(control)  # keys are shortened
    stats = requests.get(simulator.url + "/_sandbox/stats", timeout=5).json()
    assert stats["customers"] == 1 and stats["duplicates"] == 0
    configured = requests.post(simulator.url + "/_sandbox/config",
                               json={"customer_faults": False}, timeout=5)
    assert configured.json()["customer_faults"] is False
    assert requests.post(simulator.url + "/_sandbox/config", json={"latency": -1},
                         timeout=5).status_code == 400
    assert requests.post(simulator.url + "/_sandbox/faults", json={"kind": "418"},
                         timeout=5).status_code == 400  # not a status this service answers
    requests.post(simulator.url + "/_sandbox/reset", timeout=5).raise_for_status()
    assert simulator.state.listing(DEMO_API_KEY, "customers") == []
