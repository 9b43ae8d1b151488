"""Requests to one Fakturoid account: the mandatory ``User-Agent``, the bearer token
(``auth.ClientCredentials``), the account slug in the path, pages of 40, and every answer
that is not the expected success turned into an ``UpstreamError`` (``answers.failure``).

A request that changes nothing (GET) never fails ambiguously, whatever came back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from bridge.errors import UpstreamBadResponse, UpstreamError
from bridge.upstreams.fakturoid import assumptions as fak
from bridge.upstreams.fakturoid.answers import failure, json_body
from bridge.upstreams.fakturoid.auth import TOKENS, ClientCredentials, TokenStore
from bridge.upstreams.fakturoid.settings import FakturoidSettings
from bridge.upstreams.http import HttpClient

#: a lookup by our key that fills more pages than this is not ours to page through
MAX_PAGES = 25


class FakturoidApi:
    def __init__(self, settings: FakturoidSettings, http: HttpClient,
                 tokens: TokenStore = TOKENS) -> None:
        self.http = http
        self.timeout = settings.timeouts
        self.account_url = settings.base_url + fak.ACCOUNT_PREFIX.format(
            slug=quote(settings.account_slug, safe=""))
        self.auth = ClientCredentials(
            http, token_url=settings.base_url + fak.TOKEN_PATH, client_id=settings.client_id,
            client_secret=settings.client_secret, user_agent=settings.user_agent,
            timeout=self.timeout, store=tokens)
        self.headers = {"User-Agent": settings.user_agent, "Accept": "application/json"}

    def call(self, method: str, path: str, *, what: str, body: Any = None,
             params: Mapping[str, Any] | None = None, expect: tuple[int, ...] = (200,),
             one_invoice: str | None = None) -> requests.Response:
        """One request under the account; the answer if its status is in ``expect``."""
        response = self.http.request(method, self.account_url + path, json=body,
                                     params=params, headers=self.headers, auth=self.auth,
                                     timeout=self.timeout)
        if response.status_code in expect:
            return response
        error = failure(response, what=what, one_invoice=one_invoice)
        if method == "GET":
            error.ambiguous = False  # a read creates nothing
        raise error

    def get(self, path: str, *, what: str, params: Mapping[str, Any] | None = None,
            one_invoice: str | None = None) -> Any:
        """The JSON of a GET's 200 answer."""
        response = self.call("GET", path, what=what, params=params, one_invoice=one_invoice)
        body = json_body(response)
        if body is None:
            raise UpstreamBadResponse(f"HTTP 200 {what}: the answer is not JSON",
                                      http_status=200)
        return body

    def get_object(self, path: str, *, what: str, one_invoice: str | None = None
                   ) -> dict[str, Any]:
        body = self.get(path, what=what, one_invoice=one_invoice)
        if not isinstance(body, dict):
            raise UpstreamBadResponse(f"HTTP 200 {what}: not a JSON object", http_status=200)
        return body

    def find_all(self, path: str, *, what: str, params: Mapping[str, Any]
                 ) -> list[dict[str, Any]]:
        """Every record of a filtered collection: pages of 40 until a short or empty one
        ([DOC]: a page past the end is empty)."""
        records: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            body = self.get(path, what=what, params={**params, "page": page})
            if not isinstance(body, list):
                raise UpstreamBadResponse(f"HTTP 200 {what}: not a JSON array",
                                          http_status=200)
            records.extend(item for item in body if isinstance(item, dict))
            if len(body) < fak.PAGE_SIZE:
                break
        return records

    def create(self, path: str, body: Any, *, what: str,
               params: Mapping[str, Any] | None = None, expect: tuple[int, ...] = (201,),
               one_invoice: str | None = None) -> requests.Response:
        return self.call("POST", path, what=what, body=body, params=params, expect=expect,
                         one_invoice=one_invoice)

    def created(self, response: requests.Response, *, what: str) -> dict[str, Any]:
        """The record a 201 answer carries (it must have an id): anything else after a
        create is an unknown outcome -- the record may exist."""
        body = json_body(response)
        if not isinstance(body, dict) or not _is_id(body.get("id")):
            raise UpstreamBadResponse(
                f"HTTP {response.status_code} {what}: the answer carries no record with an id "
                "(it may have been created)", http_status=response.status_code, ambiguous=True)
        return body

    def account(self) -> dict[str, Any]:
        return self.get_object(fak.ACCOUNT_PATH, what="reading the account")


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def record_id(record: Mapping[str, Any]) -> str:
    return str(record["id"])


def same_key(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The records whose ``custom_id`` is exactly ``key`` (a filter is not trusted to be
    exact), earliest first."""
    mine = [record for record in records
            if record.get("custom_id") == key and _is_id(record.get("id"))]
    return sorted(mine, key=lambda record: int(record["id"]))


def ensure_certain(error: UpstreamError, what: str) -> UpstreamError:
    """``error`` marked as certain (not ambiguous), its message saying what failed."""
    error.ambiguous = False
    error.args = (f"{what}: {error}",)
    return error
