"""The simulator's answers: JSON written exactly (``Decimal`` as the number it was) and the
vendor's ``{"status": "FAIL", "data": {...}}`` envelopes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from flask import Response

from bridge.upstreams.econt.assumptions import STATUS_FAIL

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
_UNAUTHORIZED_MESSAGE = "Incorrect or missing API key"  # [DOC] wording of the 401 line


def _dumps(value: Any) -> str:
    """JSON text in which ``Decimal`` values are written as the numbers they were."""
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


def fail(status: int, message: str, *, code: int = 0, previous: dict[str, Any] | None = None,
         headers: Mapping[str, str] | None = None) -> Response:
    status = int(status)  # HTTPStatus members would otherwise leak into the JSON
    data: dict[str, Any] = {"name": HTTPStatus(status).phrase, "message": message,
                            "code": code, "status": status}
    if previous is not None:
        data["previous"] = previous
    return json_response(status, {"status": STATUS_FAIL, "data": data}, headers)


def unauthorized(headers: Mapping[str, str] | None = None) -> Response:
    return fail(HTTPStatus.UNAUTHORIZED, _UNAUTHORIZED_MESSAGE, headers=headers)


def invalid_route(path: str) -> Response:
    # [DOC S6] Yii2's stock answer for an unresolvable route.
    route = path.strip("/")
    previous = {"name": "Invalid Route",
                "message": f'Unable to resolve the request "{route}".', "code": 0}
    return fail(HTTPStatus.NOT_FOUND, "Page not found.", previous=previous)


def method_not_allowed() -> Response:
    message = "Method Not Allowed. This URL can only handle the following request methods: POST."
    return fail(HTTPStatus.METHOD_NOT_ALLOWED, message, headers={"Allow": "POST"})
