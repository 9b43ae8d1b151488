"""The vendor endpoint, ``POST /facturare/v1/put/invoice``: what e-Cont.md would answer,
or what a queued fault makes of that answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Response, g, request

from bridge.upstreams.econt.assumptions import (
    DUPLICATE_HTTP_STATUS,
    DUPLICATE_ORDER_CODE,
    EXISTING_FLAG,
    INVOICE_ID_FIELD,
    INVOICE_NUMBER_FIELD,
    INVOICE_ORDER_FIELD,
    STATUS_OK,
    SUCCESS_HTTP_STATUS,
    VALIDATION_HTTP_STATUS,
)
from sandbox.econt.responses import (
    JSON_CONTENT_TYPE,
    fail,
    json_response,
    method_not_allowed,
    unauthorized,
)
from sandbox.econt.state import InvoiceRecord, SimulatorState
from sandbox.econt.validation import validate_invoice_request
from sandbox.kit.answers import answer_after, answer_before
from sandbox.kit.faults import is_before_fault

_FAULT_MESSAGES = {
    "500": "An internal server error occurred.",
    "502": "The upstream server returned an invalid response.",
    "503": "The service is temporarily unavailable.",
    "429": "Rate limit exceeded.",
    "403": "You are not allowed to perform this action.",
    "422": "Data validation failed.",
}



def put_invoice(state: SimulatorState) -> Response:
    """The view: refuse other methods, then take at most one queued fault."""
    if request.method != "POST":
        state.note_reject("method_not_allowed")
        g.outcome = "method_not_allowed"
        return method_not_allowed()
    fault = state.take_fault()
    if fault is None:
        return _process_put(state)
    g.fault = fault.kind
    if is_before_fault(fault.kind):
        g.outcome = "fault"
        if fault.delay:
            state.sleep(fault.delay)
        return answer_before(fault, _service_error)
    return answer_after(state, fault, _process_put(state), g.get("order_id"),
                        success_status=SUCCESS_HTTP_STATUS, json_content_type=JSON_CONTENT_TYPE)


# --- the request as the simulated service handles it ------------------------------------


def _process_put(state: SimulatorState) -> Response:
    """Handle a put/invoice request exactly as the simulated service would."""
    if request.mimetype != "application/json":
        return _bad_request(state, "Content-Type must be application/json")
    try:
        body = _parse_json(request.get_data())
    except (UnicodeDecodeError, ValueError) as exc:
        return _bad_request(state, f"Invalid JSON data in request body: {exc}")
    if not isinstance(body, dict):
        return _bad_request(state, "The request body must be a JSON object")
    connect = body.get("connect")
    connect = connect if isinstance(connect, Mapping) else {}
    client, token = connect.get("client"), connect.get("token")
    if not state.is_known(client, token):
        state.note_reject("unauthorized")
        g.outcome = "unauthorized"
        return unauthorized()
    problems = validate_invoice_request(body, check_totals=state.check_totals)
    if problems:
        state.note_reject("validation")
        g.outcome = "validation"
        return fail(VALIDATION_HTTP_STATUS, "; ".join(problems))
    order_id = body["order"]["id"]
    g.order_id = order_id
    record, outcome = state.record_invoice(str(client), order_id, _without_credentials(body))
    g.outcome = outcome
    if outcome == "duplicate":
        message = (f"Order {order_id} already has invoice {record.number} "
                   f"({INVOICE_ID_FIELD} {record.hash})")
        return fail(DUPLICATE_HTTP_STATUS, message, code=DUPLICATE_ORDER_CODE)
    return _invoice_answer(record, existing=outcome == "existing")


def _parse_json(raw: bytes) -> Any:
    """Parse a request body; non-integer numbers become ``Decimal`` (never float)."""
    return json.loads(
        raw.decode("utf-8"),
        parse_float=Decimal,
        parse_constant=_reject_constant,
        object_pairs_hook=_unique_keys,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would silently keep the last of two equal keys -- e.g. lose an item line.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def _bad_request(state: SimulatorState, message: str) -> Response:
    state.note_reject("not_json")
    g.outcome = "not_json"
    return fail(VALIDATION_HTTP_STATUS, message)


def _without_credentials(body: Mapping[str, Any]) -> dict[str, Any]:
    kept = dict(body)
    connect = body.get("connect")
    if isinstance(connect, Mapping):
        kept["connect"] = {k: v for k, v in connect.items() if k not in ("client", "token")}
    return kept


def _invoice_answer(record: InvoiceRecord, *, existing: bool) -> Response:
    # [ASSUMPTION, assumptions.py] the success body is undocumented.
    invoice: dict[str, Any] = {INVOICE_ID_FIELD: record.hash,
                               INVOICE_NUMBER_FIELD: record.number,
                               INVOICE_ORDER_FIELD: record.order_id}
    if existing:
        invoice[EXISTING_FLAG] = True
    data = {"code": 0, "status": SUCCESS_HTTP_STATUS,
            "message": "Invoice already exists" if existing else "Invoice created",
            "invoice": invoice}
    return json_response(SUCCESS_HTTP_STATUS, {"status": STATUS_OK, "data": data})


# --- faults -----------------------------------------------------------------------------


def _service_error(status: int, message: str, headers: Mapping[str, str]) -> Response:
    """e-Cont.md's own answer for an error status: the documented 401 line, else the FAIL
    envelope with e-Cont.md-like messages."""
    if status == 401:
        return unauthorized(headers)
    return fail(status, _FAULT_MESSAGES.get(str(status), message), headers=headers)
