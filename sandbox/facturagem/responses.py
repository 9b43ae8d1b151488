"""The simulator's answers: JSON with decimals written as strings (as a Rails app writes
BigDecimal), FACTURAgem's error body ``{"errors": {...}}`` and the ``links`` every resource
carries ([DOC])."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response

from bridge.upstreams.facturagem import assumptions

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None
                  ) -> Response:
    return Response(json.dumps(payload, default=_plain, ensure_ascii=False), status=status,
                    headers=dict(headers or {}), content_type=JSON_CONTENT_TYPE)


def no_content(status: int = 200) -> Response:
    """[DOC] Updates and deletions answer with the status code only."""
    return Response(b"", status=status)


def error(status: int, errors: Mapping[str, list[str]], *, resource: Mapping[str, Any]
          | None = None, allowed: list[str] | None = None,
          headers: Mapping[str, str] | None = None) -> Response:
    """FACTURAgem's error answer: the target resource (for a 422, [DOC]) plus "errors"."""
    body: dict[str, Any] = dict(resource or {})
    body[assumptions.ERRORS_FIELD] = {field: list(messages) for field, messages in
                                      errors.items()}
    if allowed is not None:
        body[assumptions.ALLOWED_PARAMS_FIELD] = allowed
    return json_response(status, body, headers)


def links(base: str, **related: str) -> list[dict[str, str]]:
    """[DOC] "links": [{"rel": "self", "uri": ...}, ...], absolute URIs."""
    return [{"rel": rel, "uri": f"{base}{path}"} for rel, path in related.items()]
