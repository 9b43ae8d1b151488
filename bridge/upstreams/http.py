"""HTTP to upstreams with ``requests``: one pooled session per thread, connect and read
timeouts, and every transport failure mapped into the ``bridge.errors`` families.

The one question that matters for "never a duplicate invoice" is whether the upstream may
have acted on the request. A refused connection or a connect timeout means it did not; a
read timeout or a connection dropped mid-exchange means it may have (``ambiguous=True``) --
unless the request changes nothing (GET, or any call the adapter marks ``idempotent``), in
which case no failure of it is ever ambiguous. An answer that did come back is classified
by ``bridge.upstreams.failures``: only the upstream's own error body proves it created
nothing.

Adapters add their own headers per request (Fakturoid's mandatory ``User-Agent``) and may
pass an ``Auth``: it adds the credentials to every request, and when the upstream answers
401 it may renew them (a new OAuth token, a new session) -- the request is then sent once
more, which is safe because a 401 is a refusal: nothing was done.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

import bridge
from bridge.errors import UpstreamConnectionError, UpstreamTimeout

USER_AGENT = f"invoice-bridge/{bridge.__version__} (+https://github.com/invoice-bridge)"


class Auth(Protocol):
    """Credentials an adapter lends the client for a request."""

    def headers(self) -> Mapping[str, str]:
        """Headers that authenticate a request (e.g. ``Authorization: Bearer ...``)."""
        ...

    def renew(self, rejected: Mapping[str, str]) -> bool:
        """The upstream answered 401 to a request sent with ``rejected``: renew the
        credentials (unless another thread already did) and say whether to send again."""
        ...


class HttpClient:
    """Thread-safe: ``requests.Session`` is not, so each thread gets its own pool."""

    def __init__(self, *, connect_timeout: float, read_timeout: float,
                 pool_size: int = 10) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.pool_size = pool_size
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=self.pool_size,
                                                    max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def request(self, method: str, url: str, *, json: Any = None,
                params: Mapping[str, Any] | None = None, data: Any = None,
                headers: Mapping[str, str] | None = None, auth: Auth | None = None,
                timeout: tuple[float, float] | None = None,
                idempotent: bool | None = None) -> requests.Response:
        """One exchange (never a redirect followed). ``idempotent`` defaults to True for GET
        and HEAD: such a request's failures are never ambiguous."""
        safe = method in ("GET", "HEAD") if idempotent is None else idempotent
        sent_auth = dict(auth.headers()) if auth is not None else {}
        response = self._exchange(method, url, json=json, params=params, data=data,
                                  headers={**(headers or {}), **sent_auth},
                                  timeout=timeout or self.timeout, ambiguous=not safe)
        if response.status_code == 401 and auth is not None and auth.renew(sent_auth):
            response.close()
            response = self._exchange(method, url, json=json, params=params, data=data,
                                      headers={**(headers or {}), **auth.headers()},
                                      timeout=timeout or self.timeout, ambiguous=not safe)
        return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post_json(self, url: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, json=body, **kwargs)

    def patch_json(self, url: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", url, json=body, **kwargs)

    def _exchange(self, method: str, url: str, *, ambiguous: bool,
                  **kwargs: Any) -> requests.Response:
        with map_transport_errors(ambiguous=ambiguous):
            return self.session().request(method, url, allow_redirects=False, **kwargs)

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


@contextmanager
def map_transport_errors(*, ambiguous: bool = True) -> Iterator[None]:
    """Translate ``requests`` exceptions into upstream error families (httpx-style).
    ``ambiguous=False``: the request changes nothing, so no failure of it can have."""
    try:
        yield
    except requests.ConnectTimeout as exc:
        raise UpstreamTimeout(f"connect timeout: {_short(exc)}", ambiguous=False) from exc
    except requests.ReadTimeout as exc:
        raise UpstreamTimeout(f"no answer in time: {_short(exc)}",
                              ambiguous=ambiguous) from exc
    except requests.ConnectionError as exc:
        if _never_connected(exc):
            raise UpstreamConnectionError(f"cannot connect: {_short(exc)}",
                                          ambiguous=False) from exc
        raise UpstreamConnectionError(f"connection lost: {_short(exc)}",
                                      ambiguous=ambiguous) from exc
    except requests.RequestException as exc:
        raise UpstreamConnectionError(f"request failed: {_short(exc)}",
                                      ambiguous=ambiguous) from exc


def _never_connected(exc: BaseException) -> bool:
    """True if the failure happened while opening the connection (nothing was sent)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | NameResolutionError):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    return False


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:297] + "..."


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
