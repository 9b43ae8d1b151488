"""Reading admin API input: every mistake is a 400 that names the field and the reason."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter

from bridge.errors import RefusalKind, Refused, invalid
from bridge.order_ids import RULE as ORDER_ID_RULE
from bridge.order_ids import is_order_id, parse_order_id

MAX_LIMIT = 500
MAX_BULK_ORDER_IDS = 10_000


def _not_an_object() -> Refused:
    return Refused("bad_request", "the body must be a JSON object", RefusalKind.INVALID)


class OrderIdConverter(BaseConverter):
    """``<order_id:order_id>`` in a route: ASCII digits, 1 to 2^63 - 1 (werkzeug's ``int``
    takes any script's digits and any size). A bad id is a 400 naming the field, raised
    while the URL is matched -- so before the token check, which is fine: the answer says
    nothing but the rule."""

    regex = r"[^/]+"

    def to_python(self, value: str) -> int:
        try:
            return parse_order_id(value)
        except ValueError as exc:
            raise BadRequest(f"order_id: {exc}") from None

    def to_url(self, value: Any) -> str:
        return str(value)


def json_body() -> Any:
    """The request's JSON body, or None when it is empty, not declared as JSON or not valid
    JSON (the callers say what they expected instead). JSON nested deeper than the parser
    goes is a 400 (Flask's own ``get_json`` lets that escape as a 500)."""
    from flask import request

    raw = request.get_data(cache=True)
    if not raw or not request.is_json:
        return None
    try:
        return json.loads(raw)
    except RecursionError:
        raise invalid("body", "JSON nested too deeply") from None
    except ValueError:
        return None


def iso_datetime(args: Mapping[str, str], name: str) -> datetime | None:
    raw = args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, "not an ISO 8601 date-time, e.g. 2026-11-22T10:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def query_limit(args: Mapping[str, str], default: int = 50) -> int:
    raw = args.get("limit")
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise invalid("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def optional_body() -> dict[str, Any]:
    """The request's JSON object; an empty body is {}; anything else but an object is a 400."""
    from flask import request

    if not request.get_data(cache=True):
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise _not_an_object()
    return body


def body_field(body: Any, name: str, kind: type, *, required: bool = True) -> Any:
    if not isinstance(body, dict):
        if required:
            raise _not_an_object()
        return None
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(name, "required")
        return None
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        expected = "non-empty string" if kind is str else kind.__name__
        raise invalid(name, f"must be a {expected}")
    return value


def order_ids_field(body: Any) -> list[int] | None:
    if not isinstance(body, dict) or body.get("order_ids") is None:
        return None
    ids = body["order_ids"]
    if not isinstance(ids, list) or not ids:
        raise invalid("order_ids", "must be a non-empty list of order ids")
    if len(ids) > MAX_BULK_ORDER_IDS:
        raise invalid("order_ids", f"at most {MAX_BULK_ORDER_IDS} per request")
    bad = next((index for index, value in enumerate(ids) if not is_order_id(value)), None)
    if bad is not None:
        raise invalid(f"order_ids[{bad}]", f"must be {ORDER_ID_RULE}")
    return ids
