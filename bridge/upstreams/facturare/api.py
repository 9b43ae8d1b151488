"""The three kinds of exchange the adapter has with facturare.md -- list, read one, create --
and what each answer means.

Only facturare.md's own error object (``{type, message, param}``; ``assumptions.
is_error_object``) proves a request was refused; any other answer that is not the success we
expect goes through ``bridge.upstreams.failures`` as an unknown outcome. A request that
creates nothing (a GET) is never ambiguous, whatever became of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import requests

from bridge.errors import UpstreamError
from bridge.upstreams.facturare import assumptions as facturare
from bridge.upstreams.facturare.auth import ApiKeyAuth
from bridge.upstreams.failures import failure_from_answer
from bridge.upstreams.http import HttpClient, parse_retry_after

UPSTREAM = "facturare.md"
#: a reason shown to operators is cut here (the service's message may be long)
MAX_REASON = 500
#: how much of a foreign page (a gateway's HTML) is quoted
MAX_PAGE_QUOTE = 200
_ACCEPT = {"Accept": "application/json"}


class FacturareApi:
    """One business's API: base URL, API key, timeouts, on a shared HTTP client."""

    def __init__(self, http: HttpClient, base_url: str, api_key: str,
                 timeout: tuple[float, float]) -> None:
        self.http = http
        self.base_url = base_url
        self.auth = ApiKeyAuth(api_key)
        self.timeout = timeout

    def list(self, path: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``GET path?params``: the objects of the first page, oldest first."""
        response = self.http.get(self.base_url + path, params=params, headers=_ACCEPT,
                                 auth=self.auth, timeout=self.timeout)
        body = read_json(response)
        if _success(response) and isinstance(body, list):
            return [item for item in body if isinstance(item, dict)]
        raise failure(response, body, creates=False)

    def read(self, path: str) -> dict[str, Any] | None:
        """``GET path``: the object, or None when facturare.md itself says there is none."""
        response = self.http.get(self.base_url + path, headers=_ACCEPT, auth=self.auth,
                                 timeout=self.timeout)
        body = read_json(response)
        if _success(response) and isinstance(body, dict) and object_id(body):
            return body
        if response.status_code == 404 and facturare.is_error_object(body):
            return None
        raise failure(response, body, creates=False)

    def create(self, path: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """``POST path`` with ``body``: the object created and the HTTP status."""
        response = self.http.post_json(self.base_url + path, body, headers=_ACCEPT,
                                       auth=self.auth, timeout=self.timeout)
        answer = read_json(response)
        if _success(response) and isinstance(answer, dict) and object_id(answer):
            return answer, response.status_code
        raise failure(response, answer, creates=True)


def _success(response: requests.Response) -> bool:
    return 200 <= response.status_code < 300


def read_json(response: requests.Response) -> Any:
    """The answer's JSON (numbers that are not integers as Decimal), or None."""
    try:
        return json.loads(response.content.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        return None


def object_id(obj: Mapping[str, Any]) -> str | None:
    """An object's id as text ([ASSUMPTION] an integer), or None if it has none."""
    value = obj.get(facturare.ID_FIELD)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value and len(value) <= 64 and value.isprintable():
        return value
    return None


def oldest(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The oldest of ``objects`` that have an id: integer ids grow ([ASSUMPTION]); any other
    id sorts after them, in the order listed."""
    with_ids = [obj for obj in objects if object_id(obj)]
    if not with_ids:
        return None

    def age(obj: dict[str, Any]) -> int:
        value = obj[facturare.ID_FIELD]
        return value if isinstance(value, int) else 2**63

    return min(with_ids, key=age)


def failure(response: requests.Response, body: Any, *, creates: bool) -> UpstreamError:
    """The error for an answer that is not the success expected. ``creates``: the request
    could have created something (a POST); otherwise no failure of it is ambiguous."""
    status = response.status_code
    retry_after = (parse_retry_after(response.headers.get(facturare.RETRY_AFTER_HEADER))
                   if status == 429 else None)
    error = failure_from_answer(status, reason(body, response),
                                own_error=facturare.is_error_object(body),
                                upstream=UPSTREAM, retry_after=retry_after)
    if not creates:
        error.ambiguous = False
    return error


def reason(body: Any, response: requests.Response) -> str:
    """A readable, bounded reason: "param: message" from facturare.md's error object, else
    a quote of whatever came back."""
    if facturare.is_error_object(body):
        message = " ".join(body["message"].split()) or "(no message)"
        param = body.get("param")
        text = f"{param}: {message}" if param else message
        return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."
    # a gateway's HTML page, JSON of another shape: quoted, bounded, on one line
    text = " ".join(response.text[:2000].split())
    if len(text) > MAX_PAGE_QUOTE:
        text = text[:MAX_PAGE_QUOTE - 3] + "..."
    return text or "(empty body)"


def nothing_created(error: UpstreamError, step: str) -> UpstreamError:
    """``error`` from a step before the invoice was sent (finding or creating its customer):
    whatever the customer request did, no invoice exists, so the failure is not ambiguous."""
    error.ambiguous = False
    error.args = (f"{step}: {error}",)
    return error
