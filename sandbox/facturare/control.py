"""Our control API under ``/_sandbox/`` (facturare.md has nothing like it): inspect
customers, invoices, payments, stats and the request log; reset; add API keys; switch
behaviours; queue faults."""

from __future__ import annotations

from flask import Flask, Response, request

from sandbox.facturare.responses import json_response
from sandbox.facturare.state import RESOURCES, FacturareState
from sandbox.kit.control import SANDBOX_PREFIX, register_fault_routes


def control_error(message: str, status: int = 400) -> Response:
    return json_response(status, {"error": message})


def register_control_routes(app: Flask, state: FacturareState) -> None:
    prefix = SANDBOX_PREFIX

    @app.get(f"{prefix}/<resource>")
    def objects(resource: str) -> Response:
        if resource not in RESOURCES:
            return control_error(f"no such list: {resource[:40]}", 404)
        stored = state.all_objects(resource)
        return json_response(200, {"count": len(stored), resource: [
            {**item.obj, "account": item.account[:8] + "..."} for item in stored]})

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

    @app.post(f"{prefix}/keys")
    def add_key() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return control_error('send {"api_key": "..."}')
        try:
            state.add_api_key(body.get("api_key"))
        except ValueError as exc:
            return control_error(str(exc))
        return json_response(201, {"registered": True})

    @app.route(f"{prefix}/config", methods=["GET", "POST"])
    def config() -> Response:
        if request.method == "GET":
            return json_response(200, state.config())
        body = request.get_json(silent=True)
        allowed = {"latency", "customer_faults"}
        if not isinstance(body, dict) or not set(body) <= allowed:
            return control_error(f"send an object with any of: {', '.join(sorted(allowed))}")
        try:
            return json_response(200, state.configure(**body))
        except ValueError as exc:
            return control_error(str(exc))

    register_fault_routes(app, state, json_response)
