"""Reading admin API input with the schemas of ``bridge.admin.schemas``: every mistake is a
400 that names the field and the reason."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError, fields
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter

from bridge.admin.schemas import RequestSchema
from bridge.errors import RefusalKind, Refused, invalid
from bridge.order_ids import parse_order_id


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
    goes is a 400 (Flask's own ``get_json`` lets that escape as a 500). Numbers with a
    fraction or an exponent are read as decimals, exactly."""
    raw = request.get_data(cache=True)
    if not raw or not request.is_json:
        return None
    try:
        return json.loads(raw, parse_float=Decimal)
    except RecursionError:
        raise invalid("body", "JSON nested too deeply") from None
    except ValueError:
        return None


def load_body(schema: type[RequestSchema], *, required: bool) -> dict[str, Any]:
    """The request's JSON object, loaded by ``schema``; an empty body is ``{}`` unless the
    body is ``required``; anything but a JSON object is a 400."""
    if not required and not request.get_data(cache=True):
        return load(schema(), {})
    body = json_body()
    if not isinstance(body, dict):
        raise Refused("bad_request", "the body must be a JSON object", RefusalKind.INVALID)
    return load(schema(), body)


def load_query(schema: type[RequestSchema]) -> dict[str, Any]:
    """The query string, loaded by ``schema``: a list field takes every value of its
    parameter, any other field the first."""
    instance = schema()
    data = {}
    for name, field in instance.load_fields.items():
        key = field.data_key or name
        if key in request.args:
            data[key] = (request.args.getlist(key) if isinstance(field, fields.List)
                         else request.args[key])
    return load(instance, data)


def load(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
        return loaded
    except ValidationError as exc:
        raise _first_error(schema, exc.messages) from None


def _first_error(schema: Schema, messages: Any) -> Refused:
    """The first mistake, in the order the schema declares its fields: ``field: reason``,
    ``order_ids[3]: reason``."""
    assert isinstance(messages, dict)
    order = [field.data_key or name for name, field in schema.load_fields.items()]
    name = min(messages, key=lambda key: order.index(key) if key in order else len(order))
    path, reason = name, messages[name]
    while isinstance(reason, dict):  # a list item's (or a dict value's) errors
        key = next(iter(reason))
        path, reason = f"{path}[{key}]", reason[key]
    if isinstance(reason, list):
        reason = reason[0]
    codes = getattr(schema, "error_codes", {})
    if path == "_schema":
        return Refused("bad_request", str(reason), RefusalKind.INVALID)
    return invalid(path, str(reason), code=codes.get(name, "bad_request"))
