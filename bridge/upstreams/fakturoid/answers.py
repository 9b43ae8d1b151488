"""Fakturoid's answers turned into the bridge's upstream errors, with a readable reason.

- Only Fakturoid's own error body (``assumptions.is_error_body``: ``{"errors": {field:
  [...]}}`` or ``{"error", "error_description"}``) proves it refused the request; every other
  answer that is not a success is an unknown outcome (``bridge.upstreams.failures``).
- The reason is "field: message, message; field: message" (422) or "code: description",
  bounded like every field error (``bridge.errors.format_field_errors``).
- 402 (the account is blocked for an unpaid Fakturoid bill) and 401/403 are account errors:
  the shop pauses with the reason. 404 of the account's collections means a wrong slug or
  base URL (the shop pauses too); 404 of one invoice means that invoice is gone.
- 429: ``Retry-After`` if given, else the ``t`` of ``X-RateLimit`` (seconds until reset).
- 503 (maintenance, read-only mode) and other 5xx are transient.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests

from bridge.errors import (
    MAX_ERRORS_TEXT,
    UpstreamAccountError,
    UpstreamError,
    UpstreamRejected,
    clip,
    format_field_errors,
)
from bridge.upstreams.failures import failure_from_answer
from bridge.upstreams.fakturoid import assumptions
from bridge.upstreams.http import parse_retry_after

UPSTREAM = "Fakturoid"


def json_body(response: requests.Response) -> Any:
    """The parsed JSON body, or None when there is none or it is not JSON."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def describe(body: object) -> str:
    """A readable, bounded reason from Fakturoid's error body (either documented shape)."""
    if not isinstance(body, Mapping):
        return ""
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        return format_field_errors({str(key): [str(item) for item in value]
                                    for key, value in errors.items()
                                    if isinstance(value, list)})
    error, description = body.get("error"), body.get("error_description")
    text = f"{error}: {description}" if description else str(error)
    return clip(" ".join(text.split()), MAX_ERRORS_TEXT)


def page_text(response: requests.Response) -> str:
    """What a body that is not Fakturoid's says (an HTML page), bounded, on one line."""
    text = " ".join(response.text[:2000].split())
    return text[:200] or "(empty body)"


def retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` (not documented for Fakturoid), else the ``t`` of ``X-RateLimit``."""
    value = parse_retry_after(response.headers.get("Retry-After"))
    if value is not None:
        return value
    return assumptions.rate_limit_reset(response.headers.get(assumptions.RATE_LIMIT_HEADER))


def failure(response: requests.Response, *, what: str,
            one_invoice: str | None = None) -> UpstreamError:
    """The error for an answer that is not the success the caller expected. ``what`` says
    what was asked ("creating the invoice"); ``one_invoice`` is the invoice id when the
    request was about one invoice (its 404 is then that invoice missing, not the account)."""
    status = response.status_code
    body = json_body(response)
    if status == assumptions.BLOCKED_STATUS:
        own = assumptions.is_blocked_body(body)
        return UpstreamAccountError(
            f"HTTP 402 {what}: the Fakturoid account is blocked for an unpaid Fakturoid "
            f"invoice; pay it, then resume the shop ({_detail(body, response, own)})",
            http_status=status, ambiguous=not own)
    own = assumptions.is_error_body(body)
    detail = _detail(body, response, own)
    if status == 404 and one_invoice is not None and own:
        return UpstreamRejected(f"HTTP 404 {what}: Fakturoid has no invoice {one_invoice} "
                                f"(deleted there?): {detail}", http_status=status)
    return failure_from_answer(status, f"{what}: {detail}", own_error=own, upstream=UPSTREAM,
                               retry_after=retry_after(response) if status == 429 else None)


def _detail(body: object, response: requests.Response, own: bool) -> str:
    if own:
        return describe(body)
    if isinstance(body, Mapping):  # JSON, but not a documented error shape
        return clip(json.dumps(body, ensure_ascii=False)[:500], 200)
    return page_text(response)
