"""The FACTURAgem simulator is strict to the vendor's documentation: what the docs forbid it
refuses, in the documented way -- 401 without the session's api_key, 422 with the allowed
parameters for one it does not expect (unless strict is off), 422 with the resource and
"errors" for invalid data, collections paged until an empty page, DESTROY ending the key on
every device. Plain HTTP on loopback, no adapter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.facturagem.server import RunningSimulator, run_simulator
from sandbox.facturagem.state import (
    DEMO_ACCOUNT_ID,
    DEMO_LOGIN,
    DEMO_PASSWORD,
    FacturagemState,
)

ACCOUNT = f"/accounts/{DEMO_ACCOUNT_ID}"
CLIENT = {"name": "Ultramarinos Sol S.L.", "nif": "B12345678", "email": "compras@sol.example"}
LINE = {"description": "Turrón", "quantity": "2", "price": "12.09", "iva_percent": "21"}


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=FacturagemState(page_size=2)) as running:
        yield running


class Api:
    def __init__(self, simulator: RunningSimulator) -> None:
        self.root = simulator.api_url
        self.key = self.login().json()["api_key"]

    def login(self, login: str = DEMO_LOGIN, password: str = DEMO_PASSWORD
              ) -> requests.Response:
        return requests.post(f"{self.root}/session.json",
                             json={"login": login, "password": password}, timeout=5)

    def call(self, method: str, path: str, body: Any = None, *, key: str | None = "",
             **params: Any) -> requests.Response:
        if key is not None:
            params["api_key"] = key or self.key
        return requests.request(method, f"{self.root}{path}", params=params, json=body,
                                timeout=5)

    def client(self, **fields: Any) -> int:
        answer = self.call("POST", f"{ACCOUNT}/clients.json", {"client": {**CLIENT, **fields}})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["id"])

    def invoice(self, client_id: int, **fields: Any) -> dict[str, Any]:
        body = {"invoice": {"client_id": client_id, "prices_include_tax": True,
                            "lines": [LINE], **fields}}
        answer = self.call("POST", f"{ACCOUNT}/invoices.json", body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@pytest.fixture
def api(simulator: RunningSimulator) -> Api:
    return Api(simulator)


def test_login_returns_the_same_key_until_the_session_is_destroyed(api: Api) -> None:
    first = api.login()
    assert first.status_code == 200 and first.json()["api_key"] == api.key
    assert {link["rel"] for link in first.json()["links"]} == {"self", "account"}
    assert api.call("DELETE", "/session.json").status_code == 200
    assert api.call("GET", "/accounts.json").status_code == 401  # on every device
    assert api.login().json()["api_key"] != api.key


def test_a_wrong_password_is_a_401_with_errors(api: Api) -> None:
    refused = api.login(password="nope")
    assert refused.status_code == 401 and refused.json() == {
        "errors": {"login": ["invalid login or password"]}}


@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_authenticated_operations_need_the_key(api: Api, key: str | None) -> None:
    for method, path in (("GET", "/accounts.json"), ("GET", f"{ACCOUNT}/clients.json"),
                         ("POST", f"{ACCOUNT}/invoices.json")):
        answer = api.call(method, path, key=key)
        assert answer.status_code == 401 and "errors" in answer.json()


def test_the_key_is_a_parameter_of_the_query_or_the_body(api: Api) -> None:
    body = {"api_key": api.key, "client": CLIENT}
    answer = requests.post(f"{api.root}{ACCOUNT}/clients.json", json=body, timeout=5)
    assert answer.status_code == 200


def test_countries_need_no_key(api: Api) -> None:
    answer = api.call("GET", "/countries.json", key=None)
    assert answer.status_code == 200 and {"code": "ES", "name": "Spain"} in answer.json()


def test_only_json_urls(api: Api) -> None:
    assert api.call("GET", "/accounts.xml").status_code == 406
    assert api.call("GET", "/accounts").status_code == 406
    assert api.call("GET", f"{ACCOUNT}/estimates.json").status_code == 404
    assert api.call("PATCH", f"{ACCOUNT}/invoices/1.json").status_code == 404


def test_another_users_account_is_not_found(api: Api) -> None:
    answer = api.call("GET", "/accounts/2-someone-else/clients.json")
    assert answer.status_code == 404 and answer.json()["errors"] == {"account": ["not found"]}


def test_an_unexpected_parameter_is_refused_with_the_allowed_ones(api: Api) -> None:
    body = {"client": {**CLIENT, "vat_number": "ES1"}}
    refused = api.call("POST", f"{ACCOUNT}/clients.json", body)
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"client.vat_number": ["is not an allowed parameter"]}
    assert "client.nif" in refused.json()["allowed_params"]
    assert api.call("GET", f"{ACCOUNT}/clients.json", order="name").status_code == 422
    for strict in ("false", "0"):  # [DOC] strict off: the parameter is ignored
        assert api.call("POST", f"{ACCOUNT}/clients.json", body, strict=strict
                        ).status_code == 200
    assert api.call("POST", f"{ACCOUNT}/clients.json", body, strict="true").status_code == 422


def test_validation_errors_return_the_resource_with_errors(api: Api) -> None:
    client_id = api.client()
    body = {"invoice": {"client_id": client_id, "notes": "x", "lines": [
        {**LINE, "quantity": "0", "price": "1e3"}, {"description": ""}]}}
    refused = api.call("POST", f"{ACCOUNT}/invoices.json", body)
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["notes"] == "x" and answer["client_id"] == client_id
    assert answer["errors"] == {
        "lines[0].quantity": ["must be greater than 0"], "lines[0].price": ["is not a number"],
        "lines[1].description": ["can't be blank"], "lines[1].quantity": ["can't be blank"],
        "lines[1].price": ["can't be blank"], "lines[1].iva_percent": ["can't be blank"]}
    missing = api.call("POST", f"{ACCOUNT}/invoices.json", {"invoice": {"client_id": 999,
                                                                        "lines": []}})
    assert missing.json()["errors"] == {"client_id": ["is not a client of this account"],
                                        "lines": ["must hold at least one line"]}
    assert api.call("GET", "/accounts.json").status_code == 200  # nothing broken


def test_collections_are_summaries_paged_until_an_empty_page(api: Api) -> None:
    ids = [api.client(nif=f"B0000000{n}") for n in range(5)]
    pages = [api.call("GET", f"{ACCOUNT}/clients.json", page=page).json()
             for page in (1, 2, 3, 4)]
    assert [len(page) for page in pages] == [2, 2, 1, 0]
    assert [client["id"] for page in pages for client in page] == ids
    assert all("links" in client for page in pages for client in page)
    assert api.call("GET", f"{ACCOUNT}/clients.json", page="0").status_code == 422


def test_brief_summaries_leave_the_details_to_the_resource(api: Api,
                                                           simulator: RunningSimulator) -> None:
    client_id = api.client()
    api.invoice(client_id, notes="Ref. pedido: shop:1")
    simulator.state.configure(summaries="brief")
    [client] = api.call("GET", f"{ACCOUNT}/clients.json").json()
    [invoice] = api.call("GET", f"{ACCOUNT}/clients/{client_id}/invoices.json").json()
    assert set(client) == {"id", "name", "links"}
    assert set(invoice) == {"id", "number", "date", "total", "links"}
    full = api.call("GET", f"{ACCOUNT}/invoices/{invoice['id']}.json").json()
    assert full["notes"] == "Ref. pedido: shop:1"


def test_an_invoice_is_numbered_dated_and_totalled_by_facturagem(api: Api) -> None:
    client_id = api.client()
    gross = api.invoice(client_id)
    net = api.invoice(client_id, prices_include_tax=False,
                      lines=[{**LINE, "price": "10.00"}])
    assert gross["number"].endswith("/0001") and net["number"].endswith("/0002")
    assert gross["total"] == "24.18" and gross["lines"][0]["iva"] == "4.20"
    assert net["total"] == "24.20" and gross["paid"] is False
    assert {link["rel"] for link in gross["links"]} == {"self", "client", "payments"}
    listed = api.call("GET", f"{ACCOUNT}/clients/{client_id}/invoices.json").json()
    assert [invoice["id"] for invoice in listed] == [gross["id"], net["id"]]


def test_updates_and_deletions_answer_with_the_status_only(api: Api) -> None:
    client_id = api.client()
    invoice = api.invoice(client_id)
    path = f"{ACCOUNT}/invoices/{invoice['id']}.json"
    updated = api.call("PUT", path, {"invoice": {"notes": "changed"}})
    assert updated.status_code == 200 and updated.content == b""
    assert api.call("GET", path).json()["notes"] == "changed"
    refused = api.call("DELETE", f"{ACCOUNT}/clients/{client_id}.json")
    assert refused.status_code == 422 and "the client has invoices" in refused.text
    assert api.call("DELETE", path).content == b""
    assert api.call("GET", path).status_code == 404
    assert api.call("DELETE", f"{ACCOUNT}/clients/{client_id}.json").status_code == 200


def test_new_json_prefills_an_invoice(api: Api) -> None:
    client_id = api.client()
    blank = api.call("GET", f"{ACCOUNT}/invoices/new.json", client_id=str(client_id)).json()
    assert blank["id"] is None and blank["client"]["nif"] == "B12345678"
    original = api.invoice(client_id, notes="copy me")
    copy = api.call("GET", f"{ACCOUNT}/invoices/new.json",
                    invoice_id=str(original["id"])).json()
    assert copy["notes"] == "copy me" and copy["number"] is None and copy["date"] is None


def test_payments_are_partial_until_the_invoice_is_paid(api: Api) -> None:
    invoice = api.invoice(api.client())
    path = f"{ACCOUNT}/invoices/{invoice['id']}/payments.json"
    first = api.call("POST", path, {"payment": {"amount": "10.00", "date": "2026-03-15"}})
    assert first.status_code == 200 and first.json()["amount"] == "10.00"
    too_much = api.call("POST", path, {"payment": {"amount": "20.00", "date": "2026-03-15"}})
    assert too_much.status_code == 422
    assert too_much.json()["errors"] == {"amount": ["is greater than the amount due (14.18)"]}
    rest = api.call("POST", path, {"payment": {"amount": "14.18", "date": "2026-03-16"}})
    assert rest.status_code == 200
    paid = api.call("GET", f"{ACCOUNT}/invoices/{invoice['id']}.json").json()
    assert paid["paid"] is True and [p["amount"] for p in paid["payments"]] == ["10.00",
                                                                              "14.18"]
    bad = api.call("POST", path, {"payment": {"amount": "-1", "date": "15/03/2026"}})
    assert bad.json()["errors"] == {"amount": ["must be greater than 0"],
                                    "date": ["must be a date YYYY-MM-DD"]}


def test_duplicate_json_keys_and_non_objects_are_refused(api: Api) -> None:
    raw = '{"client": {"name": "A", "name": "B"}}'
    answer = requests.post(f"{api.root}{ACCOUNT}/clients.json", params={"api_key": api.key},
                           data=raw, headers={"Content-Type": "application/json"}, timeout=5)
    assert answer.status_code == 422 and "duplicate key" in answer.text
    listed = api.call("POST", f"{ACCOUNT}/clients.json", [CLIENT])
    assert listed.status_code == 422 and "must be a JSON object" in listed.text


def test_faults_reach_invoices_not_the_clients_created_on_the_way(
        api: Api, simulator: RunningSimulator) -> None:
    simulator.state.add_fault("500", times=1)
    client_id = api.client()  # not a fault target by default
    refused = api.call("POST", f"{ACCOUNT}/invoices.json",
                       {"invoice": {"client_id": client_id, "lines": [LINE]}})
    assert refused.status_code == 500 and refused.json() == {
        "errors": {"base": ["Internal Server Error"]}}
    simulator.state.configure(faults_on_clients=True)
    simulator.state.add_fault("503", times=1)
    assert api.call("POST", f"{ACCOUNT}/clients.json", {"client": CLIENT}).status_code == 503
    assert simulator.state.fault_counts() == {"500": 1, "503": 1}
