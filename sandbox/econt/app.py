"""``create_simulator_app``: the Flask app that counts, delays and logs vendor requests,
routes put/invoice and the control API, and answers errors the way e-Cont.md (Yii) does."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from bridge.upstreams.econt.assumptions import PUT_INVOICE_PATH
from sandbox.econt.control import control_error, register_control_routes
from sandbox.econt.put_invoice import put_invoice
from sandbox.econt.responses import fail, invalid_route
from sandbox.econt.state import SimulatorState
from sandbox.kit.connection import KILL_KEY, ConnectionKiller
from sandbox.kit.control import is_control_path

#: The package's name, the app's name since the simulator was a single module (it names
#: ``app.logger``).
_APP_NAME = __name__.rpartition(".")[0]


def create_simulator_app(state: SimulatorState | None = None) -> Flask:
    """The simulator as a Flask app. ``app.extensions["econt_simulator"]`` is its state.

    The "reset" and "drop_after_create" faults need the connection itself: they work
    exactly under ``run_simulator()``/``serve_forever()``, best-effort under another
    werkzeug server, and not at all under the Flask test client."""
    state = state if state is not None else SimulatorState()
    app = Flask(_APP_NAME)
    app.extensions["econt_simulator"] = state
    app.wsgi_app = ConnectionKiller(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def count_and_delay() -> None:
        if is_control_path(request.path):
            return
        state.note_request(put=request.path == PUT_INVOICE_PATH and request.method == "POST")
        state.sleep(state.latency)

    @app.after_request
    def log_answer(response: Response) -> Response:
        if not is_control_path(request.path):
            killed = request.environ.get(KILL_KEY) is not None
            state.note_response({
                "at": datetime.now(UTC).isoformat(),
                "method": request.method,
                "path": request.path,
                "status": None if killed else response.status_code,
                "outcome": g.get("outcome", "ok" if response.status_code < 400 else "error"),
                "fault": g.get("fault"),
                "order_id": g.get("order_id"),
            })
        return response

    # All methods reach the view so a GET answers with the envelope, not Flask's page.
    app.add_url_rule(PUT_INVOICE_PATH, "put_invoice", lambda: put_invoice(state),
                     methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                     provide_automatic_options=False)
    register_control_routes(app, state)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if is_control_path(request.path):
            return control_error(exc.description or exc.name, status)
        if status == HTTPStatus.NOT_FOUND:
            state.note_reject("not_found")
            g.outcome = "not_found"
            return invalid_route(request.path)
        return fail(status, exc.description or exc.name)

    return app
