"""``create_simulator_app``: the Flask app that authenticates, counts, delays and logs vendor
requests, serves customers, invoices and payments (list, read, create) and the control API,
and answers every error with facturare.md's error object."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, InternalServerError

from bridge.upstreams.facturare import assumptions as facturare
from sandbox.facturare.checks import check_customer, check_invoice, check_payment
from sandbox.facturare.control import control_error, register_control_routes
from sandbox.facturare.listing import BadParameter, expand_param, expanded, list_page
from sandbox.facturare.responses import (
    JSON_CONTENT_TYPE,
    error,
    json_response,
    not_found,
    unauthorized,
)
from sandbox.facturare.state import RESOURCES, FacturareState
from sandbox.kit.answers import answer_after, answer_before
from sandbox.kit.connection import KILL_KEY, ConnectionKiller
from sandbox.kit.control import is_control_path
from sandbox.kit.faults import is_before_fault

_APP_NAME = __name__.rpartition(".")[0]
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_WRITES = ("POST", "PUT", "PATCH", "DELETE")
#: at most this many problems are listed in one error message
_LISTED_PROBLEMS = 5
_FAULT_MESSAGES = {
    "401": facturare.UNAUTHORIZED_MESSAGE,
    "403": "You do not have permission to perform this action",
    "404": "The specified resource could not be found",
    "429": facturare.RATE_LIMITED_MESSAGE,
    "500": "There was a problem on our end",
}


def create_simulator_app(state: FacturareState | None = None) -> Flask:
    """The simulator as a Flask app; ``app.extensions["facturare_simulator"]`` is its state.
    The "reset" and "drop_after_create" faults need ``run_simulator()`` (sandbox.kit)."""
    state = state if state is not None else FacturareState()
    app = Flask(_APP_NAME)
    app.extensions["facturare_simulator"] = state
    app.wsgi_app = ConnectionKiller(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def authenticate() -> Response | None:
        if is_control_path(request.path):
            return None
        state.note_request(write=request.method in _WRITES)
        state.sleep(state.latency)
        key = _api_key(request.headers.get("Authorization", ""))
        if key is None or not state.is_known(key):
            state.note_reject("unauthorized")
            g.outcome = "unauthorized"
            return unauthorized()
        g.account = key
        return None

    @app.after_request
    def log_answer(response: Response) -> Response:
        if not is_control_path(request.path):
            killed = request.environ.get(KILL_KEY) is not None
            state.note_response({
                "at": datetime.now(UTC).isoformat(), "method": request.method,
                "path": request.path, "status": None if killed else response.status_code,
                "outcome": g.get("outcome", "ok" if response.status_code < 400 else "error"),
                "fault": g.get("fault"), "order_id": g.get("order_id"),
            })
        return response

    def collection(resource: str) -> Response:
        if resource not in RESOURCES or request.method not in ("GET", "HEAD", "POST"):
            return _unrouted(state)
        if request.method == "POST":
            return _create(state, resource)
        try:
            page, headers = list_page(state.listing(g.account, resource), resource,
                                      request.args, request.base_url, _fetcher(state))
        except BadParameter as exc:
            state.note_reject("bad_parameter")
            return error(400, exc.message, exc.param)
        return json_response(200, page, headers)

    def item(resource: str, object_id: str) -> Response:
        if resource not in RESOURCES or request.method not in ("GET", "HEAD"):
            return _unrouted(state)
        found = state.get(g.account, resource, int(object_id)) if object_id.isdigit() \
            and len(object_id) < 19 else None
        if found is None:
            return not_found(f"{resource[:-1].capitalize()} {object_id[:40]}")
        return json_response(200, expanded(found, resource, expand_param(request.args),
                                           _fetcher(state)))

    app.add_url_rule("/<resource>", "collection", collection, methods=_ALL_METHODS,
                     provide_automatic_options=False)
    app.add_url_rule("/<resource>/<object_id>", "item", item, methods=_ALL_METHODS,
                     provide_automatic_options=False)
    register_control_routes(app, state)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if is_control_path(request.path):
            return control_error(exc.description or exc.name, status)
        if status == 404:
            return _unrouted(state)
        return error(status, exc.description or exc.name)

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError) -> Response:
        return error(500, _FAULT_MESSAGES["500"])

    return app


def _api_key(header: str) -> str | None:
    """[DOC] HTTP Basic with the key as the user name and an empty password."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon or password != facturare.BASIC_AUTH_PASSWORD or not user:
        return None
    return user


def _unrouted(state: FacturareState) -> Response:
    state.note_reject("not_found")
    g.outcome = "not_found"
    return not_found(f"{request.method} {request.path[:100]}")


def _fetcher(state: FacturareState) -> Any:
    def fetch(resource: str, object_id: object) -> Mapping[str, Any] | None:
        return state.get(g.account, resource, object_id)
    return fetch


# --- creating ---------------------------------------------------------------------------


def _create(state: FacturareState, resource: str) -> Response:
    """Take at most one queued fault (a create changes something), then create."""
    takes_faults = resource != "customers" or state.customer_faults
    fault = state.take_fault() if takes_faults else None
    if fault is None:
        return _process_create(state, resource)
    g.fault = fault.kind
    if is_before_fault(fault.kind):
        g.outcome = "fault"
        if fault.delay:
            state.sleep(fault.delay)
        return answer_before(fault, _service_error)
    return answer_after(state, fault, _process_create(state, resource), g.get("order_id"),
                        success_status=facturare.CREATED_HTTP_STATUS,
                        json_content_type=JSON_CONTENT_TYPE)


def _process_create(state: FacturareState, resource: str) -> Response:
    if request.mimetype != "application/json":
        return _refused(state, "not_json", [(None, "Content-Type must be application/json")])
    try:
        body = _parse_json(request.get_data())
    except (UnicodeDecodeError, ValueError) as exc:
        return _refused(state, "not_json", [(None, f"The request body is not valid JSON: "
                                                   f"{exc}")])
    if not isinstance(body, dict):
        return _refused(state, "not_json", [(None, "The request body must be a JSON object")])
    account = g.account

    def lookup(kind: str) -> Any:
        return lambda object_id: state.get(account, kind, object_id)

    if resource == "customers":
        problems = check_customer(body)
    elif resource == "invoices":
        g.order_id = _order_id(body)
        problems = check_invoice(body, lookup("customers"))
    else:
        problems = check_payment(body, lookup("customers"), lookup("invoices"))
    if problems:
        return _refused(state, "validation", problems)
    create = {"customers": state.create_customer, "invoices": state.create_invoice,
              "payments": state.create_payment}[resource]
    g.outcome = "created"
    return json_response(facturare.CREATED_HTTP_STATUS, create(account, body))


def _refused(state: FacturareState, reason: str,
             problems: Sequence[tuple[str | None, str]]) -> Response:
    state.note_reject(reason)
    g.outcome = reason
    (param, message), rest = problems[0], problems[1:]
    if rest:
        others = "; ".join(f"{p}: {m}" for p, m in rest[:_LISTED_PROBLEMS - 1])
        more = len(rest) - (_LISTED_PROBLEMS - 1)
        message += f" (also {others}{f'; and {more} more' if more > 0 else ''})"
    return error(400, message, param)


def _order_id(body: Mapping[str, Any]) -> int | None:
    """The order an invoice is for, from our key in its metadata ("shop:1203"), so a held
    answer can name its order (``held_orders``)."""
    metadata = body.get("metadata")
    key = metadata.get(facturare.ORDER_KEY) if isinstance(metadata, Mapping) else None
    tail = key.rpartition(":")[2] if isinstance(key, str) else ""
    return int(tail) if tail.isascii() and tail.isdigit() and len(tail) < 19 else None


def _parse_json(raw: bytes) -> Any:
    """A request body; non-integer numbers become ``Decimal``, duplicate keys are refused
    (json.loads would silently keep the last -- e.g. lose a line)."""
    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                raise ValueError(f"duplicate key {key!r}")
            obj[key] = value
        return obj

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=constant,
                      object_pairs_hook=unique)


def _service_error(status: int, message: str, headers: Mapping[str, str]) -> Response:
    """facturare.md's own answer for a fault's status: the error object, with the page's
    wording where it has one."""
    return error(status, _FAULT_MESSAGES.get(str(status), message), headers=headers)
