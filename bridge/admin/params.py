"""Reading admin API input: every mistake is a 400 that names the field and the reason."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bridge.web import ApiError

MAX_LIMIT = 500


def iso_datetime(args: Mapping[str, str], name: str) -> datetime | None:
    raw = args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "bad_request",
                       f"{name}: not an ISO 8601 date-time, e.g. 2026-11-22T10:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def query_limit(args: Mapping[str, str], default: int = 50) -> int:
    raw = args.get("limit")
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, "bad_request", f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def optional_body() -> dict[str, Any]:
    """The request's JSON object; an empty body is {}; anything else but an object is a 400."""
    from flask import request

    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return body


def body_field(body: Any, name: str, kind: type, *, required: bool = True) -> Any:
    if not isinstance(body, dict):
        if required:
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        return None
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, "bad_request", f"{name}: required")
        return None
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        expected = "non-empty string" if kind is str else kind.__name__
        raise ApiError(400, "bad_request", f"{name}: must be a {expected}")
    return value


def order_ids_field(body: Any) -> list[int] | None:
    if not isinstance(body, dict) or body.get("order_ids") is None:
        return None
    ids = body["order_ids"]
    if not isinstance(ids, list) or not ids or not all(
            isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
        raise ApiError(400, "bad_request", "order_ids: must be a non-empty list of order ids")
    if len(ids) > 10_000:
        raise ApiError(400, "bad_request", "order_ids: at most 10000 per request")
    return ids
