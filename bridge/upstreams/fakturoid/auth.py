"""OAuth 2 Client Credentials for Fakturoid: one access token per (token URL, client id),
shared by every adapter instance and every thread of the process.

[DOC https://www.fakturoid.cz/api/v3/authorization] The token comes from ``POST
/oauth/token`` with the Client ID and Client Secret in ``Authorization: Basic`` (never in the
body) and ``grant_type=client_credentials``; it lasts ``expires_in`` seconds (7200) and
cannot be refreshed -- a new one is requested. Our rules:

- the token is cached in a module-level store behind a lock, so one process asks for one
  token per credential pair however many shops, adapters and dispatch threads use it (the
  official PHP client warns that a new token may invalidate the previous one);
- it is renewed ``TOKEN_RENEW_MARGIN`` seconds before it expires, by whichever thread needs
  it first, while the others wait for that one request instead of sending their own;
- a 401 from the API renews it once (``HttpClient`` then sends the request again: a 401 is a
  refusal, nothing was done) -- unless another thread already renewed it since the rejected
  request was sent, in which case that newer token is simply used.

Token requests change nothing at Fakturoid, so none of their failures is ambiguous; any
refusal (400, 401, 403) means the shop cannot work and is an account error.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests

from bridge.errors import UpstreamAuthError, UpstreamBadResponse, UpstreamError
from bridge.upstreams.fakturoid import assumptions
from bridge.upstreams.fakturoid.answers import describe, failure, json_body, page_text
from bridge.upstreams.http import HttpClient

#: a longer token is not a Fakturoid token (theirs are 80 characters)
MAX_TOKEN_LENGTH = 4096
Key = tuple[str, str]


@dataclass(frozen=True)
class AccessToken:
    value: str
    #: on the store's clock (monotonic seconds)
    expires_at: float

    @property
    def header(self) -> str:
        return f"Bearer {self.value}"


class TokenStore:
    """Access tokens by (token URL, client id), and a lock per key so that only one thread
    at a time asks Fakturoid for a token of that key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tokens: dict[Key, AccessToken] = {}
        self._locks: dict[Key, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: Key) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: Key) -> AccessToken | None:
        with self._guard:
            return self._tokens.get(key)

    def put(self, key: Key, token: AccessToken) -> None:
        with self._guard:
            self._tokens[key] = token

    def drop(self, key: Key) -> None:
        with self._guard:
            self._tokens.pop(key, None)


#: the process-wide store every adapter shares
TOKENS = TokenStore()


class ClientCredentials:
    """The ``Auth`` an adapter lends ``HttpClient``: ``Authorization: Bearer <token>``."""

    def __init__(self, http: HttpClient, *, token_url: str, client_id: str, client_secret: str,
                 user_agent: str, timeout: tuple[float, float], store: TokenStore = TOKENS,
                 margin: float = assumptions.TOKEN_RENEW_MARGIN) -> None:
        self.http = http
        self.token_url = token_url
        self.key: Key = (token_url, client_id)
        self._basic = "Basic " + base64.b64encode(
            f"{client_id}:{client_secret}".encode()).decode("ascii")
        self.user_agent = user_agent
        self.timeout = timeout
        self.store = store
        self.margin = margin

    def __repr__(self) -> str:  # never the secret
        return f"ClientCredentials(token_url={self.token_url!r})"

    def headers(self) -> Mapping[str, str]:
        return {"Authorization": self.token().header}

    def token(self) -> AccessToken:
        """A token valid for at least ``margin`` more seconds, asked for if need be."""
        current = self.store.get(self.key)
        if current is not None and self._fresh(current):
            return current
        with self.store.lock(self.key):
            current = self.store.get(self.key)  # another thread may have just got one
            if current is not None and self._fresh(current):
                return current
            return self._fetch()

    def renew(self, rejected: Mapping[str, str]) -> bool:
        """The API answered 401 to a request sent with ``rejected``: ask for a new token,
        unless another thread already has since. True: send the request again."""
        with self.store.lock(self.key):
            current = self.store.get(self.key)
            if (current is not None and current.header != rejected.get("Authorization")
                    and self._fresh(current)):
                return True
            self.store.drop(self.key)
            self._fetch()
            return True

    def _fresh(self, token: AccessToken) -> bool:
        return self.store.clock() < token.expires_at - self.margin

    def _fetch(self) -> AccessToken:
        """Ask for a token and store it; called with the key's lock held."""
        asked_at = self.store.clock()
        response = self.http.request(
            "POST", self.token_url, data={"grant_type": assumptions.GRANT_TYPE},
            headers={"Authorization": self._basic, "User-Agent": self.user_agent,
                     "Accept": "application/json"},
            timeout=self.timeout, idempotent=True)
        token = read_token(response, asked_at)
        self.store.put(self.key, token)
        return token


def read_token(response: requests.Response, asked_at: float) -> AccessToken:
    """The token of a 200 answer, or the error for any other: never ambiguous (a token
    request creates nothing); a 4xx other than 429 means the shop's credentials or
    User-Agent are refused (an account error: the shop pauses)."""
    body = json_body(response)
    status = response.status_code
    if status == 200 and isinstance(body, dict):
        value = body.get("access_token")
        lifetime = body.get("expires_in", assumptions.TOKEN_LIFETIME)
        if (isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_LENGTH
                and value.isprintable() and " " not in value
                and isinstance(lifetime, int) and not isinstance(lifetime, bool)
                and lifetime > 0):
            return AccessToken(value, asked_at + lifetime)
        raise UpstreamBadResponse("Fakturoid's token answer has no usable access_token "
                                  "and expires_in", http_status=status)
    error: UpstreamError
    if 400 <= status < 500 and status not in (402, 429):
        detail = describe(body) if assumptions.is_error_body(body) else page_text(response)
        error = UpstreamAuthError(
            f"HTTP {status} from Fakturoid's token endpoint (check client_id, client_secret "
            f"and user_agent): {detail}", http_status=status)
    else:
        error = failure(response, what="asking for an access token")
    error.ambiguous = False
    raise error
