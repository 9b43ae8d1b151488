"""Our control API under ``/_sandbox/`` (Fakturoid has nothing like it): inspect invoices,
subjects, stats and the request log; reset; add accounts and credentials, revoke them; change
an account (VAT payer, bank account, blocked, subject limit); switch behaviours; move the
clock (tokens expire by it); queue faults."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from sandbox.fakturoid.records import Account, Client
from sandbox.fakturoid.responses import json_response
from sandbox.fakturoid.state import SimulatorState
from sandbox.kit.control import SANDBOX_PREFIX, register_fault_routes

_ACCOUNT_SETTINGS: dict[str, type | tuple[type, ...]] = {
    "name": str, "currency": str, "vat_payer": bool, "has_bank_account": bool, "blocked": bool,
    "subject_limit": (int, type(None))}


def _bad(message: str) -> Response:
    return json_response(400, {"error": message})


def register_control_routes(app: Flask, state: SimulatorState) -> None:
    prefix = SANDBOX_PREFIX

    @app.get(f"{prefix}/invoices")
    def list_invoices() -> Response:
        base = f"{request.host_url.rstrip('/')}/accounts"
        records = [invoice.to_json(f"{base}/{invoice.account}")
                   for invoice in state.invoices(request.args.get("account"))
                   if request.args.get("custom_id") in (None, invoice.custom_id)]
        return json_response(200, {"count": len(records), "invoices": records})

    @app.get(f"{prefix}/subjects")
    def list_subjects() -> Response:
        base = f"{request.host_url.rstrip('/')}/accounts"
        records = [subject.to_json(f"{base}/{subject.account}")
                   for subject in state.subjects(request.args.get("account"))]
        return json_response(200, {"count": len(records), "subjects": records})

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

    @app.route(f"{prefix}/config", methods=["GET", "POST"])
    def config() -> Response:
        if request.method == "GET":
            return json_response(200, state.switches.to_json())
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _bad("send a JSON object of switches")
        try:
            return json_response(200, state.configure(**body))
        except (TypeError, ValueError) as exc:
            return _bad(str(exc))

    @app.post(f"{prefix}/clock")
    def clock() -> Response:
        body = request.get_json(silent=True)
        seconds = body.get("advance") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            return _bad('send {"advance": seconds}')
        state.advance(float(seconds))
        return json_response(200, {"advanced": seconds})

    @app.post(f"{prefix}/accounts")
    def add_account() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("slug"), str):
            return _bad('send {"slug": ..., and any of: ' + ", ".join(_ACCOUNT_SETTINGS) + "}")
        problem = _account_problem(body)
        if problem:
            return _bad(problem)
        if state.account(body["slug"]) is None:
            state.add_account(Account(body["slug"]))
        account = state.update_account(body["slug"], **{k: v for k, v in body.items()
                                                        if k != "slug"})
        return json_response(200, account.to_json())

    @app.post(f"{prefix}/clients")
    def add_client() -> Response:
        body = request.get_json(silent=True)
        fields = ("client_id", "client_secret", "slugs")
        if not isinstance(body, dict) or not isinstance(body.get("client_id"), str) \
                or not isinstance(body.get("client_secret"), str) \
                or not isinstance(body.get("slugs"), list):
            return _bad(f"send {{{', '.join(fields)}}}")
        state.add_client(Client(body["client_id"], body["client_secret"],
                                tuple(str(slug) for slug in body["slugs"])))
        return json_response(201, {"client_id": body["client_id"]})

    @app.delete(f"{prefix}/clients/<client_id>")
    def revoke_client(client_id: str) -> Response:
        return json_response(200, {"revoked": state.revoke_client(client_id)})

    @app.post(f"{prefix}/tokens/expire")
    def expire_tokens() -> Response:
        state.expire_tokens()
        return json_response(200, {"expired": True})

    register_fault_routes(app, state, json_response)


def _account_problem(body: dict[str, Any]) -> str | None:
    for name, value in body.items():
        if name == "slug":
            continue
        kind = _ACCOUNT_SETTINGS.get(name)
        if kind is None:
            return f"unknown account setting {name!r}"
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            return f"{name}: wrong type"
    return None
