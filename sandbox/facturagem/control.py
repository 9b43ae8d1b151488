"""Our control API under ``/_sandbox/`` (FACTURAgem has nothing like it): inspect invoices,
clients and stats, reset, add users, end every session, switch behaviours, queue faults."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from sandbox.facturagem.responses import json_response
from sandbox.facturagem.state import FacturagemState
from sandbox.kit.control import SANDBOX_PREFIX, register_fault_routes


def _control_error(message: str) -> Response:
    return json_response(400, {"error": message})


def register_control_routes(app: Flask, state: FacturagemState) -> None:
    prefix = SANDBOX_PREFIX

    @app.get(f"{prefix}/invoices")
    def list_invoices() -> Response:
        found = state.invoices(request.args.get("account"))
        return json_response(200, {"count": len(found), "invoices": [
            {**invoice.to_json(), "account": invoice.account_id, "order_id": invoice.order_id}
            for invoice in found]})

    @app.get(f"{prefix}/clients")
    def list_clients() -> Response:
        found = state.clients(request.args.get("account"))
        return json_response(200, {"count": len(found),
                                   "clients": [client.to_json() for client in found]})

    @app.get(f"{prefix}/stats")
    def stats() -> Response:
        return json_response(200, state.stats())

    @app.post(f"{prefix}/reset")
    def reset() -> Response:
        state.reset()
        return json_response(200, state.stats())

    @app.post(f"{prefix}/users")
    def add_user() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _control_error('send {"login", "password", "account_id", "account_name"}')
        try:
            state.add_user(body.get("login"), body.get("password"), body.get("account_id"),
                           str(body.get("account_name") or body.get("account_id")),
                           str(body.get("currency") or "EUR"))
        except ValueError as exc:
            return _control_error(str(exc))
        return json_response(201, {"login": body["login"], "registered": True})

    @app.post(f"{prefix}/revoke")
    def revoke() -> Response:
        """Every api_key stops working (as if each session had been DESTROYed elsewhere)."""
        state.revoke_keys()
        return json_response(200, {"revoked": True})

    @app.route(f"{prefix}/config", methods=["GET", "POST"])
    def config() -> Response:
        if request.method == "GET":
            return json_response(200, state.config())
        return _update_config(state, request.get_json(silent=True))

    register_fault_routes(app, state, json_response)


def _update_config(state: FacturagemState, body: Any) -> Response:
    allowed = {"latency", "page_size", "summaries", "faults_on_clients"}
    if not isinstance(body, dict) or not set(body) <= allowed:
        return _control_error(f"send an object with any of: {', '.join(sorted(allowed))}")
    try:
        return json_response(200, state.configure(**body))
    except (TypeError, ValueError) as exc:
        return _control_error(str(exc))
