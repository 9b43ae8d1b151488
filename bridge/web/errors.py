"""Every error, on every endpoint, in one JSON shape: ``{"error": {"code", "message", ...}}``.

A ``Refused`` (``bridge.errors``) becomes the HTTP status of its kind -- the one place that
maps refusals to HTTP; werkzeug's own errors (404 for an unknown path, 405, 413 ...) keep
their status and headers and get the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from bridge.errors import RefusalKind, Refused

STATUS: Mapping[RefusalKind, int] = {
    RefusalKind.INVALID: 400,
    RefusalKind.UNAUTHORIZED: 401,
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.CONFLICT: 409,
    RefusalKind.UNPROCESSABLE: 422,
    RefusalKind.UNAVAILABLE: 503,
}


def register(app: Flask) -> None:
    app.register_error_handler(Refused, _refused)
    app.register_error_handler(HTTPException, _http_error)


def error_body(code: str, message: str, **details: Any) -> Response:
    return jsonify({"error": {"code": code, "message": message, **details}})


def _refused(error: Refused) -> tuple[Response, int, dict[str, str]]:
    headers = {"WWW-Authenticate": error.challenge} if error.challenge else {}
    return jsonify({"error": error.as_dict()}), STATUS[error.kind], headers


def _http_error(error: HTTPException) -> tuple[Response, int, list[tuple[str, str]]]:
    code = (error.name or "error").lower().replace(" ", "_")
    # werkzeug's own headers (405's Allow, 416's Content-Range ...), minus the content type:
    # the body is ours, and JSON
    headers = [(name, value) for name, value in error.get_headers()
               if name.lower() != "content-type"]
    return error_body(code, error.description or ""), error.code or 500, headers
