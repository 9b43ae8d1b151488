"""The token endpoint and the bearer check, as [DOC] https://www.fakturoid.cz/api/v3/authorization
describes them: Client ID and Secret only in ``Authorization: Basic`` (the body form is refused
with Fakturoid's own words), ``grant_type=client_credentials`` in a JSON or form body,
``{access_token, token_type: "Bearer", expires_in}``; the token then in ``Authorization:
Bearer`` on every API request, until it expires by the simulator's clock."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import Response, g, request

from bridge.upstreams.fakturoid import assumptions as fak
from sandbox.fakturoid.records import Account, Client
from sandbox.fakturoid.responses import error, json_response
from sandbox.fakturoid.state import SimulatorState

_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="Fakturoid"'}


def token(state: SimulatorState) -> Response:
    body = _token_body()
    if body is None:
        return error(400, "invalid_request", "The request body must be JSON or form data")
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        if "client_id" in body or "client_secret" in body:
            return error(400, *fak.CREDENTIALS_IN_BODY)
        return _refused(state, "Client authentication failed (use HTTP Basic)")
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode(
            "utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return _refused(state, "Client authentication failed")
    grant_type = body.get("grant_type")
    if grant_type is None:
        # [ASSUMPTION] the parameter in the query string does not count: the docs put it in
        # the body
        return error(400, "invalid_request", "The request is missing a required parameter: "
                     "grant_type")
    if grant_type != fak.GRANT_TYPE:
        return error(400, "unsupported_grant_type",
                     "The authorization grant type is not supported by the authorization "
                     "server")
    client = state.client(client_id, secret) if sep else None
    if client is None:
        return _refused(state, "Client authentication failed")
    issued = state.issue_token(client)
    return json_response(200, {"access_token": issued.value, "token_type": "Bearer",
                               "expires_in": state.switches.token_lifetime},
                         {"Cache-Control": "no-store"})


def _token_body() -> dict[str, Any] | None:
    if request.mimetype == "application/json":
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None
    return request.form.to_dict()


def _refused(state: SimulatorState, description: str) -> Response:
    state.note("token_refused")
    g.outcome = "invalid_client"
    return error(401, fak.INVALID_CLIENT, description)


def authorize(state: SimulatorState, slug: str | None
              ) -> tuple[Client, Account | None] | Response:
    """The client of the request's bearer token and the account of ``slug`` it may use, or
    the answer that refuses the request."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        g.outcome = "unauthorized"
        return error(401, fak.INVALID_TOKEN, "The access token is missing",
                     _BEARER_CHALLENGE)
    client, why = state.token_client(value.strip())
    if client is None:
        g.outcome = "unauthorized"
        return error(401, fak.INVALID_TOKEN, why, _BEARER_CHALLENGE)
    if slug is None:
        return client, None
    account = state.account(slug)
    if account is None or slug not in client.slugs:
        g.outcome = "unknown_account"
        return error(404, fak.NOT_FOUND)
    if account.blocked:
        g.outcome = "blocked"
        return blocked(account)
    return client, account


def blocked(account: Account) -> Response:
    """[DOC] 402 with "the list of unpaid invoices" (its shape is ours: an old fixture of
    the official Ruby client's)."""
    return json_response(402, {"status": "Account blocked", "overdue_invoices": [
        {"invoice_url": f"https://app.fakturoid.cz/{account.slug}/billing/invoices/1"}]})
