"""Reading FACTURAgem's answers: the JSON it returned, and every answer that is not a success
turned into the right ``UpstreamError`` with a readable reason ("field: message; ...").

Only FACTURAgem's own error body (``assumptions.is_error_body``) proves that it refused the
request; anything else -- a gateway's HTML page, an empty body -- is an unknown outcome for a
request that changes something (``bridge.upstreams.failures``). A request that changes
nothing (a GET, a login) is never ambiguous, whatever came back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests

from bridge.errors import MAX_ERRORS_TEXT, UpstreamError, clip, format_field_errors
from bridge.upstreams.facturagem import assumptions
from bridge.upstreams.failures import failure_from_answer
from bridge.upstreams.http import parse_retry_after

UPSTREAM = "FACTURAgem"
#: how much of the allowed-parameters list a reason quotes
_ALLOWED_TEXT = 600


def json_body(response: requests.Response) -> Any:
    """The parsed JSON of an answer, or None when it is not JSON."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def failure(response: requests.Response, *, changes: bool, doing: str = "") -> UpstreamError:
    """The error for an answer that is not the success the caller could read. ``changes``:
    the request could have created or changed something (only then may it be ambiguous);
    ``doing`` says what it was, for the reason ("creating the client")."""
    body = json_body(response)
    own = assumptions.is_error_body(body)
    detail = error_reasons(body) if own else _page_text(response)
    if doing:
        detail = f"{doing}: {detail}"
    retry_after = (parse_retry_after(response.headers.get(assumptions.RETRY_AFTER_HEADER))
                   if response.status_code == 429 else None)
    error = failure_from_answer(response.status_code, detail, own_error=own, upstream=UPSTREAM,
                                retry_after=retry_after)
    if not changes:
        error.ambiguous = False  # nothing was asked to change, so nothing may have
    return error


def error_reasons(body: Mapping[str, Any]) -> str:
    """FACTURAgem's "errors" as "field: message; field: message", bounded; with the allowed
    parameters when it refused one it did not expect."""
    errors = body.get(assumptions.ERRORS_FIELD)
    if isinstance(errors, Mapping):
        text = format_field_errors({str(field): _messages(messages)
                                    for field, messages in errors.items()})
    elif isinstance(errors, list):
        text = _list_reasons(errors)
    else:
        text = clip(" ".join(str(errors).split()), MAX_ERRORS_TEXT)
    allowed = body.get(assumptions.ALLOWED_PARAMS_FIELD)
    if isinstance(allowed, list) and allowed:
        names = clip(", ".join(str(name) for name in allowed), _ALLOWED_TEXT)
        text = f"{text} (allowed parameters: {names})"
    return clip(text, MAX_ERRORS_TEXT)


def _messages(messages: object) -> list[str]:
    if isinstance(messages, list):
        return [" ".join(str(message).split()) for message in messages] or ["invalid"]
    return [" ".join(str(messages).split())]


def _list_reasons(errors: list[Any]) -> str:
    """A list of messages, or of [field, message] pairs (older Rails' errors.to_json)."""
    fields: dict[str, list[str]] = {}
    plain: list[str] = []
    for item in errors[:50]:
        if isinstance(item, list) and len(item) == 2:
            fields.setdefault(str(item[0]), []).append(" ".join(str(item[1]).split()))
        else:
            plain.append(" ".join(str(item).split()))
    parts = [*plain, format_field_errors(fields)] if fields else plain
    return clip("; ".join(part for part in parts if part), MAX_ERRORS_TEXT)


def _page_text(response: requests.Response) -> str:
    """What an answer that is not FACTURAgem's says, on one line and bounded."""
    text = " ".join(response.text[:2000].split())
    return text[:200] or "(empty body)"


def collection(body: Any) -> list[Mapping[str, Any]] | None:
    """The items of a collection answer: a JSON array, or one wrapped in an object with a
    single member ({"clients": [...]}); None when it is neither."""
    if isinstance(body, Mapping) and len(body) == 1:
        body = next(iter(body.values()))
    if isinstance(body, list) and all(isinstance(item, Mapping) for item in body):
        return body
    return None


def resource_id(resource: Any) -> str | None:
    """A resource's id as text, if it has a usable one."""
    if not isinstance(resource, Mapping):
        return None
    value = resource.get(assumptions.ID_FIELD)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value)
    return text if assumptions.ID_PATTERN.match(text) else None
