"""The Fakturoid simulator refuses what the API v3 documentation forbids, in Fakturoid's own
error shapes, over real HTTP: a simulator that accepted more than Fakturoid would hide adapter
bugs until production."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bridge.upstreams.fakturoid import assumptions as fak
from sandbox.fakturoid import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SLUG,
    DEMO_USER_AGENT,
    RunningSimulator,
    SimulatorState,
    run_simulator,
)

UA = {"User-Agent": DEMO_USER_AGENT}


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(state=SimulatorState()) as running:
        yield running


class Api:
    def __init__(self, simulator: RunningSimulator) -> None:
        self.simulator = simulator
        self.base = f"{simulator.url}/accounts/{DEMO_SLUG}"
        self.token = token(simulator).json()["access_token"]

    def headers(self, **extra: str) -> dict[str, str]:
        return {**UA, "Authorization": f"Bearer {self.token}", **extra}

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self.headers(), timeout=5)

    def post(self, path: str, body: Any = None, **params: Any) -> requests.Response:
        return requests.post(self.base + path, json=body, params=params,
                             headers=self.headers(), timeout=5)

    def subject(self, **fields: Any) -> int:
        response = self.post("/subjects.json", {"name": "Jan Novák", **fields})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def invoice(self, **fields: Any) -> requests.Response:
        body = {"subject_id": self.subject(), "lines": [{"name": "Tea", "unit_price": "100",
                                                         "vat_rate": "21"}], **fields}
        return self.post("/invoices.json", body)


@pytest.fixture
def api(simulator: RunningSimulator) -> Api:
    return Api(simulator)


def token(simulator: RunningSimulator, **kwargs: Any) -> requests.Response:
    options: dict[str, Any] = {"auth": (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                               "data": {"grant_type": "client_credentials"}, "headers": UA}
    options.update(kwargs)
    return requests.post(f"{simulator.url}/oauth/token", timeout=5, **options)


def without_user_agent(simulator: RunningSimulator, method: str, path: str,
                       headers: dict[str, str]) -> tuple[int, Any]:
    """A request with no User-Agent at all (``requests`` and urllib3 always add one)."""
    connection = http.client.HTTPConnection(simulator.host, simulator.port, timeout=5)
    try:
        connection.request(method, path, body=b"grant_type=client_credentials"
                           if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_no_user_agent_is_a_400_with_the_documented_body(simulator: RunningSimulator,
                                                         api: Api) -> None:
    basic = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
    for method, path, headers in (
            ("POST", "/oauth/token", {"Authorization": f"Basic {basic}",
                                      "Content-Type": "application/x-www-form-urlencoded"}),
            ("GET", f"/accounts/{DEMO_SLUG}/invoices.json",
             {"Authorization": f"Bearer {api.token}"})):
        status, body = without_user_agent(simulator, method, path, headers)
        assert status == 400
        assert body == {"error": "invalid_request",
                        "error_description": 'Required header "User-Agent" is missing'}


def test_the_token_endpoint(simulator: RunningSimulator) -> None:
    issued = token(simulator)
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    body = issued.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200
    assert len(body["access_token"]) == 80
    json_body = token(simulator, data=None, json={"grant_type": "client_credentials"})
    assert json_body.status_code == 200  # JSON or form, as documented
    in_body = token(simulator, auth=None, data={"grant_type": "client_credentials",
                                                "client_id": DEMO_CLIENT_ID,
                                                "client_secret": DEMO_CLIENT_SECRET})
    assert (in_body.status_code, in_body.json()) == (400, {
        "error": "invalid_request", "error_description": "Client ID and Client Secret have "
                                                         "to be sent via HTTP Basic "
                                                         "Authorization"})
    wrong = token(simulator, auth=(DEMO_CLIENT_ID, "wrong"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    query = token(simulator, data=None, params={"grant_type": "client_credentials"})
    assert query.status_code == 400  # not in the query string
    other = token(simulator, data={"grant_type": "password"})
    assert other.json()["error"] == "unsupported_grant_type"


def test_the_api_needs_a_live_bearer_token(simulator: RunningSimulator, api: Api) -> None:
    assert api.get("/invoices.json").status_code == 200
    for headers in (UA, {**UA, "Authorization": "Bearer nonsense"},
                    {**UA, "Authorization": f"Basic {api.token}"}):
        response = requests.get(f"{api.base}/invoices.json", headers=headers, timeout=5)
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    simulator.state.advance(7200)  # tokens expire by the clock
    expired = api.get("/invoices.json")
    assert expired.status_code == 401
    assert expired.json()["error_description"] == "The access token expired"


def test_an_unknown_slug_is_404(simulator: RunningSimulator, api: Api) -> None:
    response = requests.get(f"{simulator.url}/accounts/someone-else/invoices.json",
                            headers=api.headers(), timeout=5)
    assert (response.status_code, response.json()) == (404, {"error": "resource_not_found"})


def test_the_current_user_and_the_account(simulator: RunningSimulator, api: Api) -> None:
    user = requests.get(f"{simulator.url}/user.json", headers=api.headers(), timeout=5).json()
    assert [account["slug"] for account in user["accounts"]] == [DEMO_SLUG]
    account = api.get("/account.json").json()
    assert (account["subdomain"], account["currency"], account["vat_mode"]) == (
        DEMO_SLUG, "CZK", "vat_payer")


def test_rate_limit_headers_on_every_answer_and_429_past_the_quota(
        simulator: RunningSimulator, api: Api) -> None:
    simulator.state.configure(rate_quota=5, rate_window=60)
    answers = [token(simulator), api.get("/invoices.json"), api.get("/nothing.json"),
               requests.get(f"{api.base}/invoices.json", headers={}, timeout=5)]
    for response in answers:
        assert response.headers["X-RateLimit-Policy"] == "default;q=5;w=60"
        assert fak.rate_limit_remaining(response.headers["X-RateLimit"]) is not None
    # the Api fixture's token was the first request of the window: 5 used now
    limited = api.get("/invoices.json")
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert fak.rate_limit_remaining(limited.headers["X-RateLimit"]) == 0
    assert 0 < fak.rate_limit_reset(limited.headers["X-RateLimit"]) <= 60  # type: ignore[operator]
    simulator.state.advance(61)
    assert api.get("/invoices.json").status_code == 200


def test_subjects_need_a_name_and_their_custom_id_is_unique(api: Api) -> None:
    nameless = api.post("/subjects.json", {"email": "a@b.cz"})
    assert (nameless.status_code, nameless.json()) == (422, {"errors": {
        "name": ["can't be blank"]}})
    api.subject(custom_id="shop:customer:1")
    again = api.post("/subjects.json", {"name": "X", "custom_id": "shop:customer:1"})
    assert again.json() == {"errors": {"custom_id": ["has already been taken"]}}
    found = api.get("/subjects.json", custom_id="shop:customer:1").json()
    assert [subject["name"] for subject in found] == ["Jan Novák"]


def test_an_invoice_needs_an_existing_subject(api: Api) -> None:
    missing = api.post("/invoices.json", {"lines": [{"name": "Tea", "unit_price": "1"}]})
    assert missing.status_code == 422
    assert missing.json()["errors"]["subject_id"] == ["can't be blank",
                                                      "Contact does not exist."]
    unknown = api.post("/invoices.json", {"subject_id": 999, "lines": [
        {"name": "Tea", "unit_price": "1"}]})
    assert unknown.json()["errors"]["subject_id"] == ["Contact does not exist."]


def test_another_currency_needs_an_exchange_rate(api: Api) -> None:
    refused = api.invoice(currency="EUR")
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"exchange_rate": ["can't be blank"]}
    assert api.invoice(currency="EUR", exchange_rate="24.35").status_code == 201
    assert api.invoice(currency="CZK").status_code == 201


def test_lines_and_attributes_are_checked(api: Api) -> None:
    refused = api.invoice(lines=[{"quantity": "2", "unit_price": "x", "price": "1"}],
                          subtotal="100.0", payment_method="wire", language="cs")
    errors = refused.json()["errors"]
    assert refused.status_code == 422
    assert errors["lines.name"] == ["can't be blank"]
    assert errors["lines.unit_price"] == ["is not a number"]
    assert errors["lines.price"] == errors["subtotal"] == ["is not a writable attribute"]
    assert errors["payment_method"] == errors["language"] == ["is not included in the list"]
    assert api.invoice(lines=[]).json()["errors"] == {"lines": ["can't be blank"]}


def test_a_non_vat_payer_account_refuses_a_vat_rate(simulator: RunningSimulator,
                                                    api: Api) -> None:
    simulator.state.update_account(DEMO_SLUG, vat_payer=False)
    refused = api.invoice()
    assert (refused.status_code, refused.json()) == (422, {"errors": {
        "lines.vat_rate": ["must be zero"]}})
    zero = api.invoice(lines=[{"name": "Tea", "unit_price": "100", "vat_rate": 0}])
    assert zero.status_code == 201


def test_created_invoices_carry_location_and_computed_totals(api: Api) -> None:
    response = api.invoice(vat_price_mode="without_vat", custom_id="shop:7")
    invoice = response.json()
    assert response.status_code == 201 and response.headers["Location"] == invoice["url"]
    assert (invoice["subtotal"], invoice["total"]) == ("100.0", "121.0")
    assert invoice["lines"][0]["unit_price_with_vat"] == "121.0"
    gross = api.invoice(vat_price_mode="from_total_with_vat", lines=[
        {"name": "Disk", "unit_price": "1210", "vat_rate": "21"}]).json()
    assert gross["lines"][0]["unit_price_without_vat"] == "1000.0"  # the documented example
    assert (gross["subtotal"], gross["total"]) == ("1000.0", "1210.0")


def test_custom_id_is_not_unique_and_pages_hold_40(api: Api) -> None:
    for _ in range(2):
        assert api.invoice(custom_id="shop:1").status_code == 201
    assert len(api.get("/invoices.json", custom_id="shop:1").json()) == 2
    subject = api.subject()
    for number in range(43):
        api.post("/invoices.json", {"subject_id": subject, "custom_id": f"p:{number}",
                                    "lines": [{"name": "x", "unit_price": "1"}]})
    pages = [api.get("/invoices.json", page=page).json() for page in (1, 2, 3)]
    assert [len(page) for page in pages] == [40, 5, 0]
    ids = [invoice["id"] for page in pages for invoice in page]
    assert len(set(ids)) == 45


def test_json_only(api: Api) -> None:
    form = requests.post(f"{api.base}/subjects.json", data={"name": "X"},
                         headers=api.headers(), timeout=5)
    assert form.status_code == 415 and form.json()["error"] == "unsupported_media_type"
    xml = requests.get(f"{api.base}/invoices.json", timeout=5,
                       headers=api.headers(Accept="application/xml"))
    assert xml.status_code == 415


def test_events_and_payments(simulator: RunningSimulator, api: Api) -> None:
    invoice = api.invoice().json()
    path = f"/invoices/{invoice['id']}"
    assert api.post(f"{path}/fire.json", event="pay").json() == {
        "errors": {"event": ["pay cannot be fired"]}}  # removed in v3
    paid = api.post(f"{path}/payments.json", {"paid_on": "2026-03-15"})
    assert paid.status_code == 201 and paid.json()["amount"] == "121.0"  # the remaining
    assert api.get(f"{path}.json").json()["status"] == "paid"
    again = api.post(f"{path}/payments.json", {"paid_on": "2026-03-15"})
    assert (again.status_code, again.json()) == (403, {
        "error": "forbidden", "error_description": "Payment cannot be added to already paid "
                                                   "invoice"})
    other = api.invoice().json()
    simulator.state.configure(cancel_allowed="non_vat_payers")
    refused = api.post(f"/invoices/{other['id']}/fire.json", event="cancel")
    assert refused.json() == {"errors": {"event": ["cancel cannot be fired"]}}
    simulator.state.configure(cancel_allowed="all")
    assert api.post(f"/invoices/{other['id']}/fire.json", event="cancel").status_code == 204
    assert api.get(f"/invoices/{other['id']}.json").json()["status"] == "cancelled"


def test_account_states(simulator: RunningSimulator, api: Api) -> None:
    simulator.state.update_account(DEMO_SLUG, has_bank_account=False)
    no_bank = api.invoice()
    assert no_bank.status_code == 403 and "bank_account" in no_bank.json()["errors"]
    simulator.state.update_account(DEMO_SLUG, has_bank_account=True, blocked=True)
    assert api.get("/invoices.json").status_code == 402
    simulator.state.update_account(DEMO_SLUG, blocked=False)
    simulator.state.configure(read_only=True)
    assert api.post("/subjects.json", {"name": "X"}).status_code == 503
    assert api.get("/invoices.json").status_code == 200  # reads go on
