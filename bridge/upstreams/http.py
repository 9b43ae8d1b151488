"""HTTP to upstreams with ``requests``: one pooled session per thread, connect and read
timeouts, and every transport failure mapped into the ``bridge.errors`` families.

The one question that matters for "never a duplicate invoice" is whether the upstream may
have received the request. A refused connection or a connect timeout means it did not; a
read timeout or a connection dropped mid-exchange means it may have (``ambiguous=True``).
An answer that did come back is classified by ``bridge.upstreams.failures``: only the
upstream's own error body proves it created nothing.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

import bridge
from bridge.errors import UpstreamConnectionError, UpstreamTimeout

USER_AGENT = f"invoice-bridge/{bridge.__version__} (+https://github.com/invoice-bridge)"


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

    def post_json(self, url: str, body: Mapping[str, Any], *,
                  timeout: tuple[float, float] | None = None) -> requests.Response:
        with map_transport_errors():
            return self.session().post(url, json=body, timeout=timeout or self.timeout,
                                       allow_redirects=False)

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


@contextmanager
def map_transport_errors() -> Iterator[None]:
    """Translate ``requests`` exceptions into upstream error families (httpx-style)."""
    try:
        yield
    except requests.ConnectTimeout as exc:
        raise UpstreamTimeout(f"connect timeout: {_short(exc)}", ambiguous=False) from exc
    except requests.ReadTimeout as exc:
        raise UpstreamTimeout(f"no answer in time: {_short(exc)}", ambiguous=True) from exc
    except requests.ConnectionError as exc:
        if _never_connected(exc):
            raise UpstreamConnectionError(f"cannot connect: {_short(exc)}",
                                          ambiguous=False) from exc
        raise UpstreamConnectionError(f"connection lost: {_short(exc)}", ambiguous=True) from exc
    except requests.RequestException as exc:
        raise UpstreamConnectionError(f"request failed: {_short(exc)}", ambiguous=True) from exc


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
