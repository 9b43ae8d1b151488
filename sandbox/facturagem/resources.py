"""The simulated FACTURAgem's operations, one function each, called by ``app.py`` once the
request is routed, authenticated and its parameters are known to be allowed.

Each takes a ``Call`` (the state, the user, the ids in the URL, the parameters) and returns
the answer. What the documentation says is followed ([DOC]): GET and POST return the
resource, PUT and DESTROY only the status, 422 returns the resource with "errors",
collections are summaries with links, paged by "page" until an empty page. The fields and
their rules are our assumptions (``params.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, g

from bridge.upstreams.facturagem import assumptions
from sandbox.facturagem.params import (
    COUNTRIES,
    check_client,
    check_invoice,
    check_payment,
    decimal_lines,
)
from sandbox.facturagem.responses import error, json_response, links, no_content
from sandbox.facturagem.state import Client, FacturagemState, Invoice, User


@dataclass
class Call:
    state: FacturagemState
    #: the simulator's API root ("http://127.0.0.1:8766/api/v1"), for links
    root: str
    user: User | None
    ids: dict[str, str]
    params: dict[str, Any]

    @property
    def account(self) -> str:
        return self.ids["account"]

    def link(self, path: str) -> str:
        return f"{path}{assumptions.FORMAT_SUFFIX}"


def _not_found(what: str) -> Response:
    return error(404, {what: ["not found"]})


def _invalid(errors: Mapping[str, list[str]], resource: Mapping[str, Any] | None) -> Response:
    return error(assumptions.VALIDATION_STATUS, errors, resource=resource)


def _page(call: Call, items: list[Any]) -> tuple[list[Any], Response | None]:
    raw = call.params.get(assumptions.PAGE_PARAM, assumptions.FIRST_PAGE)
    page = int(raw) if isinstance(raw, int | str) and str(raw).isdigit() else 0
    if page < 1:
        return [], _invalid({"page": ["must be a whole number from 1"]}, None)
    size = call.state.page_size
    return items[(page - 1) * size:page * size], None


# --- session and account ---------------------------------------------------------------------


def session_create(call: Call) -> Response:
    found = call.state.log_in(call.params.get("login"), call.params.get("password"))
    if found is None:
        return error(401, {"login": ["invalid login or password"]})
    user, key = found
    return json_response(200, {
        "login": user.login, "email": user.login, assumptions.API_KEY: key,
        assumptions.LINKS_FIELD: links(call.root, self=call.link("/session"),
                                       account=call.link("/accounts"))})


def session_destroy(call: Call) -> Response:
    assert call.user is not None
    call.state.destroy_session(call.user)
    return no_content()


def countries(call: Call) -> Response:
    return json_response(200, [{"code": code, "name": name} for code, name in COUNTRIES])


def _account_json(call: Call, account_id: str) -> dict[str, Any]:
    account = call.state.account(account_id)
    assert account is not None
    base = f"/accounts/{account_id}"
    return {**account.to_json(), assumptions.LINKS_FIELD: links(
        call.root, self=call.link(base), clients=call.link(f"{base}/clients"),
        invoices=call.link(f"{base}/invoices"))}


def accounts(call: Call) -> Response:
    assert call.user is not None
    return json_response(200, _account_json(call, call.user.account_id))


def account_get(call: Call) -> Response:
    return json_response(200, _account_json(call, call.account))


def account_update(call: Call) -> Response:
    fields = call.params.get("account")
    name = fields.get("name") if isinstance(fields, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        return _invalid({"name": ["can't be blank"]}, _account_json(call, call.account))
    call.state.rename_account(call.account, name)
    return no_content()


# --- clients ---------------------------------------------------------------------------------


def _client_json(call: Call, client: Client, *, summary: bool = False) -> dict[str, Any]:
    path = f"/accounts/{call.account}/clients/{client.id}"
    body = client.to_json()
    if summary:
        kept = ("id", "name", "nif", "email") if call.state.summaries == "full" else ("id",
                                                                                       "name")
        body = {name: body[name] for name in kept}
    body[assumptions.LINKS_FIELD] = links(call.root, self=call.link(path),
                                          invoices=call.link(f"{path}/invoices"))
    return body


def _client(call: Call) -> Client | None:
    return call.state.client(call.account, call.ids["client"])


def clients(call: Call) -> Response:
    items, refused = _page(call, call.state.clients(call.account))
    return refused or json_response(200, [_client_json(call, c, summary=True) for c in items])


def client_create(call: Call) -> Response:
    fields = call.params.get(assumptions.CLIENT_ROOT)
    problems = check_client(fields)
    if problems or not isinstance(fields, Mapping):
        call.state.note_reject("client_validation")
        return _invalid(problems, fields if isinstance(fields, Mapping) else None)
    return json_response(200, _client_json(call, call.state.create_client(call.account,
                                                                          fields)))


def client_get(call: Call) -> Response:
    client = _client(call)
    return _not_found("client") if client is None else json_response(200,
                                                                      _client_json(call, client))


def client_update(call: Call) -> Response:
    client = _client(call)
    if client is None:
        return _not_found("client")
    fields = call.params.get(assumptions.CLIENT_ROOT)
    problems = check_client({**client.fields, **(fields if isinstance(fields, Mapping)
                                                  else {})})
    if problems or not isinstance(fields, Mapping):
        return _invalid(problems or {"client": ["must be an object"]}, client.to_json())
    call.state.update_client(client, fields)
    return no_content()


def client_delete(call: Call) -> Response:
    client = _client(call)
    if client is None:
        return _not_found("client")
    if not call.state.delete_client(client):
        return _invalid({"base": ["the client has invoices"]}, client.to_json())
    return no_content()


# --- invoices --------------------------------------------------------------------------------


def _invoice_json(call: Call, invoice: Invoice, *, summary: bool = False) -> dict[str, Any]:
    path = f"/accounts/{call.account}/invoices/{invoice.id}"
    body = invoice.to_json()
    if summary:
        kept = ("id", "number", "date", "client_id", "total", "paid", "notes") \
            if call.state.summaries == "full" else ("id", "number", "date", "total")
        body = {name: body[name] for name in kept}
    body[assumptions.LINKS_FIELD] = links(
        call.root, self=call.link(path),
        client=call.link(f"/accounts/{call.account}/clients/{invoice.client_id}"),
        payments=call.link(f"{path}/payments"))
    return body


def _invoice(call: Call) -> Invoice | None:
    return call.state.invoice(call.account, call.ids["invoice"])


def _exists(call: Call) -> Callable[[Any], bool]:
    return lambda client_id: call.state.client(call.account, client_id) is not None


def invoices(call: Call) -> Response:
    items, refused = _page(call, call.state.invoices(call.account))
    return refused or json_response(200, [_invoice_json(call, i, summary=True) for i in items])


def client_invoices(call: Call) -> Response:
    client = _client(call)
    if client is None:
        return _not_found("client")
    items, refused = _page(call, call.state.invoices(call.account, client.id))
    return refused or json_response(200, [_invoice_json(call, i, summary=True) for i in items])


def invoice_new(call: Call) -> Response:
    """[DOC] An empty invoice prefilled with the account's data, the client's if client_id
    is given; a copy of an invoice (without number and date) if invoice_id is."""
    account = call.state.account(call.account)
    assert account is not None
    body: dict[str, Any] = {"id": None, "number": None, "date": None, "client_id": None,
                            "notes": "", "currency": account.currency,
                            "prices_include_tax": False, "lines": []}
    if "invoice_id" in call.params:
        original = call.state.invoice(call.account, call.params["invoice_id"])
        if original is None:
            return _not_found("invoice")
        copy = original.to_json()
        body.update({name: copy[name] for name in ("client_id", "notes", "lines")},
                    currency=copy.get("currency", account.currency),
                    prices_include_tax=copy.get("prices_include_tax", False))
    if "client_id" in call.params:
        client = call.state.client(call.account, call.params["client_id"])
        if client is None:
            return _not_found("client")
        body["client_id"] = client.id
        body["client"] = client.to_json()
    body[assumptions.LINKS_FIELD] = links(call.root, account=call.link(
        f"/accounts/{call.account}"))
    return json_response(200, body)


def invoice_create(call: Call) -> Response:
    fields = call.params.get(assumptions.INVOICE_ROOT)
    problems = check_invoice(fields, _exists(call), creating=True)
    if problems or not isinstance(fields, Mapping):
        call.state.note_reject("invoice_validation")
        return _invalid(problems, {"id": None, **fields} if isinstance(fields, Mapping)
                        else None)
    client = call.state.client(call.account, fields["client_id"])
    assert client is not None
    invoice = call.state.create_invoice(call.account, client, {
        **fields, "lines": decimal_lines(fields["lines"])})
    g.order_id = invoice.order_id
    return json_response(200, _invoice_json(call, invoice))


def invoice_get(call: Call) -> Response:
    invoice = _invoice(call)
    return _not_found("invoice") if invoice is None \
        else json_response(200, _invoice_json(call, invoice))


def invoice_update(call: Call) -> Response:
    invoice = _invoice(call)
    if invoice is None:
        return _not_found("invoice")
    g.order_id = invoice.order_id
    fields = call.params.get(assumptions.INVOICE_ROOT)
    problems = check_invoice(fields, _exists(call), creating=False)
    if problems:
        return _invalid(problems, invoice.to_json())
    assert isinstance(fields, Mapping)
    changes = dict(fields)
    if "lines" in changes:
        changes["lines"] = decimal_lines(changes["lines"])
    call.state.update_invoice(invoice, changes)
    return no_content()


def invoice_delete(call: Call) -> Response:
    invoice = _invoice(call)
    if invoice is None:
        return _not_found("invoice")
    g.order_id = invoice.order_id
    call.state.delete_invoice(invoice)
    return no_content()


def payment_create(call: Call) -> Response:
    invoice = _invoice(call)
    if invoice is None:
        return _not_found("invoice")
    g.order_id = invoice.order_id
    fields = call.params.get(assumptions.PAYMENT_ROOT)
    problems, amount, when = check_payment(fields)
    if not problems and amount is not None and when is not None:
        payment = call.state.add_payment(invoice, amount, when)
        if not isinstance(payment, str):
            path = f"/accounts/{call.account}/invoices/{invoice.id}"
            return json_response(200, {**payment.to_json(), assumptions.LINKS_FIELD: links(
                call.root, invoice=call.link(path))})
        problems = {"amount": [payment]}
    call.state.note_reject("payment_validation")
    return _invalid(problems, fields if isinstance(fields, Mapping) else None)


OPERATIONS: dict[str, Callable[[Call], Response]] = {
    function.__name__: function for function in (
        session_create, session_destroy, countries, accounts, account_get, account_update,
        clients, client_create, client_get, client_update, client_delete,
        invoices, client_invoices, invoice_new, invoice_create, invoice_get, invoice_update,
        invoice_delete, payment_create)}
