"""``create_simulator_app``: the simulated FACTURAgem as a Flask app.

Every request under ``/api/v1/`` goes through the same steps, in the order the real service
is assumed to take them: routing by verb and path (".json" only; ".xml" is 406 here, the
simulator speaks no XML), the queued fault if the request creates or changes something,
authentication by ``api_key`` (401), the account in the URL (it must be the user's, 404),
then the parameters: any the operation does not allow is refused with 422 and the allowed
list, unless ``strict`` is "false" or "0" ([DOC]).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from bridge.upstreams.facturagem import assumptions
from sandbox.facturagem.control import register_control_routes
from sandbox.facturagem.params import allowed_list, unexpected
from sandbox.facturagem.resources import OPERATIONS, Call
from sandbox.facturagem.responses import error
from sandbox.facturagem.state import FacturagemState
from sandbox.kit.answers import answer_after, answer_before
from sandbox.kit.connection import ConnectionKiller
from sandbox.kit.control import is_control_path
from sandbox.kit.faults import is_before_fault

API_ROOT = "/api/v1"
_ID = r"(?P<{}>[A-Za-z0-9][A-Za-z0-9_.-]{{0,99}})"
_ACCOUNT = "/accounts/" + _ID.format("account")

#: (verb, path without the ".json" suffix) -> operation; first match wins
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (verb, re.compile(f"^{path}$"), operation) for verb, path, operation in (
        ("POST", "/session", "session_create"),
        ("DELETE", "/session", "session_destroy"),
        ("GET", "/countries", "countries"),
        ("GET", "/accounts", "accounts"),
        ("GET", _ACCOUNT + "/clients", "clients"),
        ("POST", _ACCOUNT + "/clients", "client_create"),
        ("GET", _ACCOUNT + "/clients/" + _ID.format("client") + "/invoices",
         "client_invoices"),
        ("GET", _ACCOUNT + "/clients/" + _ID.format("client"), "client_get"),
        ("PUT", _ACCOUNT + "/clients/" + _ID.format("client"), "client_update"),
        ("DELETE", _ACCOUNT + "/clients/" + _ID.format("client"), "client_delete"),
        ("GET", _ACCOUNT + "/invoices", "invoices"),
        ("POST", _ACCOUNT + "/invoices", "invoice_create"),
        ("GET", _ACCOUNT + "/invoices/new", "invoice_new"),
        ("POST", _ACCOUNT + "/invoices/" + _ID.format("invoice") + "/payments",
         "payment_create"),
        ("GET", _ACCOUNT + "/invoices/" + _ID.format("invoice"), "invoice_get"),
        ("PUT", _ACCOUNT + "/invoices/" + _ID.format("invoice"), "invoice_update"),
        ("DELETE", _ACCOUNT + "/invoices/" + _ID.format("invoice"), "invoice_delete"),
        ("GET", _ACCOUNT, "account_get"),
        ("PUT", _ACCOUNT, "account_update"),
    )]
#: operations that need no api_key ([DOC]: countries "doesn't need to sign in")
PUBLIC = ("session_create", "countries")
#: requests that create or change something take the queued faults ...
FAULTABLE = ("session_create", "session_destroy", "account_update", "invoice_create",
             "invoice_update", "invoice_delete", "payment_create")
#: ... and the client's only with ``faults_on_clients``: a fault queued for "the next
#: request" should reach the invoice or payment it was meant for, not the client created
#: on the way
CLIENT_WRITES = ("client_create", "client_update", "client_delete")

_FAULT_MESSAGES = {
    "500": "Internal Server Error", "502": "Bad Gateway", "503": "Service Unavailable",
    "429": "Too many requests", "403": "Forbidden", "422": "Unprocessable Entity",
}


def create_simulator_app(state: FacturagemState | None = None) -> Flask:
    """The simulator; ``app.extensions["facturagem_simulator"]`` is its state."""
    state = state if state is not None else FacturagemState()
    app = Flask(__name__.rpartition(".")[0])
    app.extensions["facturagem_simulator"] = state
    app.wsgi_app = ConnectionKiller(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def count_and_delay() -> None:
        if not is_control_path(request.path):
            state.count("requests")
            state.sleep(state.latency)

    app.add_url_rule(f"{API_ROOT}/<path:rest>", "api", lambda rest: _handle(state, rest),
                     methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                     provide_automatic_options=False)
    register_control_routes(app, state)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        return error(status, {"base": [exc.description or exc.name]})

    return app


def _handle(state: FacturagemState, rest: str) -> Response:
    path, dot, suffix = f"/{rest}".rpartition(".")
    if not dot or "/" in suffix or suffix != assumptions.FORMAT_SUFFIX[1:]:
        state.note_reject("format")
        return error(406, {"format": ["end the URL in .json (this simulator speaks no XML)"]})
    routed = _route(request.method, path)
    if routed is None:
        state.note_reject("not_found")
        return error(404, {"path": ["no such resource or operation"]})
    operation, ids = routed
    faultable = operation in FAULTABLE or (operation in CLIENT_WRITES
                                           and state.faults_on_clients)
    fault = None
    if faultable:
        state.count("writes")
        fault = state.take_fault()
    if fault is not None and is_before_fault(fault.kind):
        g.fault = fault.kind
        if fault.delay:
            state.sleep(fault.delay)
        return answer_before(fault, _fault_error)
    answer = _process(state, operation, ids)
    if fault is None:
        return answer
    g.fault = fault.kind
    return answer_after(state, fault, answer, g.get("order_id"))


def _route(verb: str, path: str) -> tuple[str, dict[str, str]] | None:
    for method, pattern, operation in ROUTES:
        match = pattern.match(path)
        if match and method == verb:
            return operation, match.groupdict()
    return None


def _process(state: FacturagemState, operation: str, ids: dict[str, str]) -> Response:
    params, problem = _params()
    if problem is not None:
        state.note_reject("body")
        return error(assumptions.VALIDATION_STATUS, {"body": [problem]})
    user = None
    if operation not in PUBLIC:
        user = state.user_for(params.get(assumptions.API_KEY))
        if user is None:
            state.note_reject("unauthorized")
            return error(401, {assumptions.API_KEY: ["is missing or invalid"]})
        if "account" in ids and ids["account"] != user.account_id:
            # [DOC] "It must belong to the current user"
            state.note_reject("foreign_account")
            return error(404, {"account": ["not found"]})
    if str(params.get(assumptions.STRICT_PARAM, "")).lower() not in assumptions.STRICT_OFF:
        refused = unexpected(operation, params)
        if refused:
            state.note_reject("unexpected_params")
            return error(assumptions.VALIDATION_STATUS,
                         {name: [assumptions.UNEXPECTED_PARAM_MESSAGE] for name in refused},
                         allowed=allowed_list(operation))
    root = request.host_url.rstrip("/") + API_ROOT
    return OPERATIONS[operation](Call(state, root, user, ids, params))


def _params() -> tuple[dict[str, Any], str | None]:
    """The query string and the body as one set of parameters (the body wins); a body is
    JSON (an object) or a form."""
    params: dict[str, Any] = dict(request.args.items())
    raw = request.get_data()
    if not raw:
        return params, None
    if request.mimetype == "application/x-www-form-urlencoded":
        return {**params, **request.form.to_dict()}, None
    if request.mimetype != "application/json":
        return params, "send JSON (Content-Type: application/json) or a form"
    try:
        body = json.loads(raw.decode("utf-8"), parse_float=Decimal,
                          parse_constant=_no_constant, object_pairs_hook=_unique)
    except (UnicodeDecodeError, ValueError) as exc:
        return params, f"is not valid JSON: {exc}"
    if not isinstance(body, Mapping):
        return params, "must be a JSON object"
    return {**params, **body}, None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {key!r}")
        found[key] = value
    return found


def _fault_error(status: int, message: str, headers: Mapping[str, str]) -> Response:
    """The simulated service's own answer for a fault status (its error body)."""
    if status == 401:
        return error(401, {assumptions.API_KEY: ["is missing or invalid"]}, headers=headers)
    return error(status, {"base": [_FAULT_MESSAGES.get(str(status), message)]},
                 headers=headers)
