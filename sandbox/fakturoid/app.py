"""``create_simulator_app``: what every request to the simulated Fakturoid meets first --
the rate limit (headers on every answer), the mandatory User-Agent, the response type -- then
the token endpoint, the account's API and our control API."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from bridge.upstreams.fakturoid import assumptions as fak
from sandbox.fakturoid.control import register_control_routes
from sandbox.fakturoid.oauth import token
from sandbox.fakturoid.responses import error, json_response
from sandbox.fakturoid.state import SimulatorState
from sandbox.fakturoid.views import register_api_routes
from sandbox.kit.connection import KILL_KEY, ConnectionKiller
from sandbox.kit.control import is_control_path

_JSON_TYPES = ("application/json", "application/*", "*/*")


def create_simulator_app(state: SimulatorState | None = None) -> Flask:
    """The simulator as a Flask app; ``app.extensions["fakturoid_simulator"]`` is its state.
    The "reset" and "drop_after_create" faults need our request handler
    (``run_simulator``)."""
    state = state if state is not None else SimulatorState()
    app = Flask("sandbox.fakturoid")
    app.extensions["fakturoid_simulator"] = state
    app.wsgi_app = ConnectionKiller(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def gate() -> Response | None:
        if is_control_path(request.path):
            return None
        state.note("requests")
        state.sleep(state.latency)
        allowed, remaining, reset = state.take_request()
        g.rate = (remaining, reset)
        if not request.headers.get("User-Agent"):  # [DOC] 400 without it
            g.outcome = "no_user_agent"
            return error(400, *fak.MISSING_USER_AGENT)
        if not allowed:  # [DOC] 429 over the quota; wait until the reset
            g.outcome = "rate_limited"
            headers = {"Retry-After": str(reset)} if state.switches.retry_after_header else {}
            return error(429, "too_many_requests", "Rate limit exceeded; wait for the reset",
                         headers)
        accept = request.headers.get("Accept")
        if accept and not any(kind in accept for kind in _JSON_TYPES):
            g.outcome = "not_acceptable"  # [DOC] another response type: 415
            return error(415, "unsupported_media_type", "Only JSON answers are available")
        return None

    @app.after_request
    def rate_headers(response: Response) -> Response:
        if is_control_path(request.path):
            return response
        switches = state.switches
        remaining, reset = g.get("rate", (switches.rate_quota, switches.rate_window))
        # [DOC] on every answer; a 429 fault sets its own X-RateLimit (r=0)
        response.headers.setdefault(fak.RATE_LIMIT_POLICY_HEADER,
                                    f"default;q={switches.rate_quota};w={switches.rate_window}")
        response.headers.setdefault(fak.RATE_LIMIT_HEADER, f"default;r={remaining};t={reset}")
        killed = request.environ.get(KILL_KEY) is not None
        state.note_response({
            "at": datetime.now(UTC).isoformat(), "method": request.method,
            "path": request.path, "status": None if killed else response.status_code,
            "outcome": g.get("outcome", "ok" if response.status_code < 400 else "error"),
            "fault": g.get("fault"), "order_id": g.get("order_id"),
            "user_agent": (request.headers.get("User-Agent") or "")[:200]})
        return response

    app.add_url_rule(fak.TOKEN_PATH, "token", lambda: token(state), methods=["POST"])
    # the official Ruby client posts to /oauth/token.json
    app.add_url_rule(fak.TOKEN_PATH + ".json", "token_json", lambda: token(state),
                     methods=["POST"])
    register_api_routes(app, state)
    register_control_routes(app, state)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if is_control_path(request.path):
            return json_response(status, {"error": exc.description or exc.name})
        if status == 404:
            return error(404, fak.NOT_FOUND)
        return error(status, exc.name.lower().replace(" ", "_"), exc.description)

    return app
