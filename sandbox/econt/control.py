"""Our control API under ``/_sandbox/`` (e-Cont.md has nothing like it): inspect invoices,
stats and the request log, reset, register accounts, switch behaviours, queue faults."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from sandbox.econt.responses import json_response
from sandbox.econt.state import SimulatorState
from sandbox.kit.control import SANDBOX_PREFIX, register_fault_routes


def control_error(message: str, status: int = 400) -> Response:
    return json_response(status, {"error": message})


def _control_body() -> Any:
    return request.get_json(silent=True)


def register_control_routes(app: Flask, state: SimulatorState) -> None:
    prefix = SANDBOX_PREFIX

    @app.get(f"{prefix}/invoices")
    def list_invoices() -> Response:
        order_id = request.args.get("order_id", type=int)
        account = request.args.get("account")
        records = state.invoices(order_id=order_id, account=account)
        return json_response(200, {"count": len(records),
                                   "invoices": [r.to_json() for r in records]})

    @app.get(f"{prefix}/stats")
    def stats() -> Response:
        return json_response(200, state.stats())

    @app.get(f"{prefix}/requests")
    def request_log() -> Response:
        return json_response(200, {"requests": state.request_log()})

    @app.post(f"{prefix}/reset")
    def reset() -> Response:
        state.reset()
        return json_response(200, state.stats())

    @app.post(f"{prefix}/accounts")
    def add_account() -> Response:
        body = _control_body()
        if not isinstance(body, dict):
            return control_error("send {\"client\": ..., \"token\": ...}")
        try:
            state.add_account(body.get("client"), body.get("token"))
        except ValueError as exc:
            return control_error(str(exc))
        return json_response(201, {"client": body["client"], "registered": True})

    @app.route(f"{prefix}/config", methods=["GET", "POST"])
    def config() -> Response:
        if request.method == "GET":
            return json_response(200, state.config())
        return _update_config(state, _control_body())

    register_fault_routes(app, state, json_response)


def _update_config(state: SimulatorState, body: object) -> Response:
    allowed = {"repeated_order", "check_totals", "latency"}
    if not isinstance(body, dict) or not set(body) <= allowed:
        return control_error(f"send an object with any of: {', '.join(sorted(allowed))}")
    try:
        return json_response(200, state.configure(**body))
    except (TypeError, ValueError) as exc:
        return control_error(str(exc))
