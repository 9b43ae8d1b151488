"""FACTURAgem's REST API as the adapter uses it: every request carries the session's
``api_key``; a 401 logs in once more and sends the request again (a 401 is a refusal:
nothing was done); collections are read page by page until an empty one.

The api_key goes in the query string (or a POST's body, ``api_key_in = "body"``), so it could
appear in the text of a transport error (``requests`` quotes the URL); every error leaving
here has it blanked out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import requests

from bridge.errors import UpstreamBadResponse, UpstreamError
from bridge.upstreams.facturagem import assumptions
from bridge.upstreams.facturagem.answers import collection, failure, json_body, resource_id
from bridge.upstreams.facturagem.auth import Session, session_for
from bridge.upstreams.facturagem.settings import FacturagemSettings
from bridge.upstreams.http import HttpClient

#: what FACTURAgem is told about the answer we want (the ".json" suffix decides it)
_ACCEPT = {"Accept": "application/json"}
_HIDDEN = "[api_key]"


class FacturagemApi:
    def __init__(self, settings: FacturagemSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http
        self.timeout = settings.timeouts
        self.session: Session = session_for(settings.base_url, settings.login)

    # --- the session --------------------------------------------------------------------

    def login(self) -> str:
        """POST session.json: the user's api_key. Creates nothing we could duplicate (the
        same key comes back on every login), so no failure of it is ambiguous."""
        credentials = {"login": self.settings.login, "password": self.settings.password}
        response = self.http.request("POST", self.url(assumptions.SESSION_PATH),
                                     json=credentials, headers=_ACCEPT, timeout=self.timeout,
                                     idempotent=True)
        user = assumptions.unwrap(json_body(response), "user")
        key = user.get(assumptions.API_KEY) if isinstance(user, Mapping) else None
        if response.status_code == assumptions.SUCCESS_STATUS and isinstance(key, str) and key:
            return key
        if response.status_code == assumptions.SUCCESS_STATUS:
            raise UpstreamBadResponse("FACTURAgem's login answer has no api_key",
                                      http_status=response.status_code)
        raise failure(response, changes=False, doing=(
            "login refused (check login and password; a user who signs in with Twitter or "
            "Facebook must set a password first)"
            if response.status_code == assumptions.UNAUTHORIZED_STATUS else "login"))

    def log_in_again(self) -> None:
        """A fresh login now (``check-config``), whatever key the process holds."""
        self.session.login_now(self.login)

    def account_id(self) -> str:
        """The configured account, or the user's own as GET accounts.json says (asked once
        per process)."""
        return self.settings.account_id or self.session.account_id(self._discover_account)

    def _discover_account(self) -> str:
        body = self.get(assumptions.ACCOUNTS_PATH)
        if isinstance(body, list):
            if len(body) != 1:
                raise UpstreamBadResponse(
                    f"GET accounts.json lists {len(body)} accounts: set account_id")
            body = body[0]
        account = resource_id(assumptions.unwrap(body, "account"))
        if account is None:
            raise UpstreamBadResponse("GET accounts.json answered without a usable account id")
        return account

    # --- requests -----------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.settings.base_url + path

    def path(self, template: str, **ids: str) -> str:
        """``template`` with the account and the given ids, each checked and quoted."""
        values = {"account": self.account_id(), **ids}
        for name, value in values.items():
            if not assumptions.ID_PATTERN.match(value):
                raise UpstreamBadResponse(f"not a FACTURAgem {name} id: {value[:40]!r}")
        return template.format(**{name: quote(value, safe="") for name, value in
                                  values.items()})

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                body: Mapping[str, Any] | None = None, changes: bool) -> requests.Response:
        """One request with the api_key; on a 401, one new login and the request once more."""
        key = self.session.api_key(self.login)
        response = self._send(method, path, key, params, body, changes)
        if response.status_code == assumptions.UNAUTHORIZED_STATUS:
            response.close()
            key = self.session.renew(key, self.login)
            response = self._send(method, path, key, params, body, changes)
        return response

    def _send(self, method: str, path: str, key: str, params: Mapping[str, Any] | None,
              body: Mapping[str, Any] | None, changes: bool) -> requests.Response:
        query = dict(params or {})
        if body is not None and self.settings.api_key_in == "body":
            body = {**body, assumptions.API_KEY: key}
        else:
            query[assumptions.API_KEY] = key
        with _key_hidden(key):
            return self.http.request(method, self.url(path), params=query, json=body,
                                     headers=_ACCEPT, timeout=self.timeout,
                                     idempotent=not changes)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """A GET's JSON; any other answer raises (never ambiguous: a GET changes nothing)."""
        response = self.request("GET", path, params=params, changes=False)
        body = json_body(response)
        if response.status_code == assumptions.SUCCESS_STATUS and body is not None:
            return body
        raise failure(response, changes=False)

    def pages(self, path: str) -> Iterator[Mapping[str, Any]]:
        """Every item of a paged collection, page 1, 2, ... until an empty page ([DOC])."""
        for page in range(assumptions.FIRST_PAGE, assumptions.MAX_PAGES + 1):
            items = collection(self.get(path, {assumptions.PAGE_PARAM: page}))
            if items is None:
                raise UpstreamBadResponse(f"page {page} of {path} is not a collection")
            if not items:
                return
            yield from items
        raise UpstreamBadResponse(f"{path} has more than {assumptions.MAX_PAGES} pages: "
                                  "too many to look through")


@contextmanager
def _key_hidden(key: str) -> Iterator[None]:
    """Blank the api_key out of a transport error's text (``requests`` quotes the URL)."""
    try:
        yield
    except UpstreamError as exc:
        text = str(exc)
        if key in text:
            exc.args = (text.replace(key, _HIDDEN),)
        exc.__cause__ = None
        exc.__suppress_context__ = True
        raise
