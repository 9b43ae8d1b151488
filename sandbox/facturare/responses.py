"""The simulator's answers: JSON written exactly (a ``Decimal`` as the number it is, as
Invoiced-style APIs answer amounts) and facturare.md's error object ``{type, message,
param}`` ([DOC])."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Response

from bridge.upstreams.facturare import assumptions as facturare

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def _dumps(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, Mapping):
        members = (f"{json.dumps(str(key))}:{_dumps(item)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def json_response(status: int, payload: Any,
                  headers: Mapping[str, str] | None = None) -> Response:
    return Response(_dumps(payload), status=status, headers=dict(headers or {}),
                    content_type=JSON_CONTENT_TYPE)


def error(status: int, message: str, param: str | None = None,
          headers: Mapping[str, str] | None = None) -> Response:
    """The documented error object: ``invalid_request`` for a 4xx, ``api`` for a 5xx."""
    kind = facturare.ERROR_API if status >= 500 else facturare.ERROR_INVALID_REQUEST
    return json_response(status, {"type": kind, "message": message, "param": param}, headers)


def unauthorized(headers: Mapping[str, str] | None = None) -> Response:
    return error(401, facturare.UNAUTHORIZED_MESSAGE, headers=headers)


def not_found(what: str) -> Response:
    return error(404, f"{what} could not be found")
