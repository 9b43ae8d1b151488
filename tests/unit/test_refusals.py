"""One refusal error, translated once per edge: every kind has an HTTP status and an exit
code, and the web edge answers the one JSON error shape."""

from __future__ import annotations

from flask import Flask

from bridge.cli import EXIT_CODE, EXIT_FAILED, EXIT_UNAVAILABLE, EXIT_USAGE
from bridge.errors import BridgeError, RefusalKind, Refused
from bridge.web.errors import STATUS, register


def test_every_kind_has_an_http_status_and_an_exit_code() -> None:
    assert set(STATUS) == set(RefusalKind)
    assert {kind: EXIT_CODE.get(kind, EXIT_FAILED) for kind in RefusalKind} == {
        RefusalKind.INVALID: EXIT_USAGE, RefusalKind.UNAUTHORIZED: EXIT_FAILED,
        RefusalKind.NOT_FOUND: EXIT_FAILED, RefusalKind.CONFLICT: EXIT_FAILED,
        RefusalKind.UNPROCESSABLE: EXIT_FAILED, RefusalKind.UNAVAILABLE: EXIT_UNAVAILABLE}


def test_the_web_edge_answers_a_refusal_in_the_one_shape() -> None:
    app = Flask(__name__)
    register(app)

    @app.get("/conflict")
    def conflict() -> None:
        raise Refused("invalid_order", "cannot be mapped", RefusalKind.UNPROCESSABLE,
                      fields={"currency": ["unknown"]})

    @app.get("/login")
    def login() -> None:
        raise Refused("unauthorized", "who are you", RefusalKind.UNAUTHORIZED,
                      challenge='Bearer realm="x"')

    client = app.test_client()
    answer = client.get("/conflict")
    assert answer.status_code == 422
    assert answer.get_json() == {"error": {"code": "invalid_order", "message": "cannot be mapped",
                                           "fields": {"currency": ["unknown"]}}}
    login_answer = client.get("/login")
    assert login_answer.status_code == 401
    assert login_answer.headers["WWW-Authenticate"] == 'Bearer realm="x"'
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert isinstance(Refused("x", "y"), BridgeError)
