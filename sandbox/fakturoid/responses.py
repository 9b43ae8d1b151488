"""The simulator's answers: JSON with decimals written as Fakturoid writes them (strings such
as ``"1210.0"``), and the two documented error bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import Response

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def amount(value: Decimal) -> str:
    """A decimal as Fakturoid writes it in recorded answers: ``"1210.0"``, ``"173.92"``."""
    value = value.normalize()
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}.0"
    return f"{value:f}"


def json_response(status: int, payload: Any,
                  headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    headers=dict(headers or {}), content_type=JSON_CONTENT_TYPE)


def errors(status: int, problems: Mapping[str, list[str]],
           headers: Mapping[str, str] | None = None) -> Response:
    """[DOC] ``{"errors": {field: [message, ...]}}`` -- always for 422."""
    return json_response(status, {"errors": {key: list(value)
                                             for key, value in problems.items()}}, headers)


def error(status: int, code: str, description: str | None = None,
          headers: Mapping[str, str] | None = None) -> Response:
    """[DOC] ``{"error": code, "error_description": text}`` -- every other error."""
    body: dict[str, str] = {"error": code}
    if description is not None:
        body["error_description"] = description
    return json_response(status, body, headers)


def no_content() -> Response:
    return Response(status=204)
