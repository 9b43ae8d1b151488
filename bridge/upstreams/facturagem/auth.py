"""FACTURAgem's session: log in once, keep the ``api_key``, reuse it everywhere in the
process, and log in again only when the API refuses it (401).

The documentation says logging in again returns the same key, and that DESTROYing the
session logs the user out of every device and application at once -- so the bridge never
ends a session, and every adapter of the process shares one ``Session`` per (base URL,
login): N shops or threads on one user cost one login, not N.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

#: logs in and returns the api_key; raises an ``UpstreamError`` when refused
Login = Callable[[], str]


class Session:
    """The api_key of one FACTURAgem user, and the account the bridge invoices on. Every
    method is thread-safe; a login runs under the lock, so threads that need the key while
    one logs in wait for its result instead of logging in too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._api_key: str | None = None
        self._account_id: str | None = None
        #: how many logins this session made (for tests and ``check-config``)
        self.logins = 0

    def api_key(self, login: Login) -> str:
        """The current key, logging in first if there is none."""
        with self._lock:
            if self._api_key is None:
                self._api_key = login()
                self.logins += 1
            return self._api_key

    def renew(self, rejected: str, login: Login) -> str:
        """The API answered 401 to a request sent with ``rejected``: the key to send the
        request again with. Another thread may already have logged in again -- then its key
        is the answer, and no second login is made."""
        with self._lock:
            if self._api_key is not None and self._api_key != rejected:
                return self._api_key
            self._api_key = None
            self._api_key = login()
            self.logins += 1
            return self._api_key

    def login_now(self, login: Login) -> str:
        """Log in now, whatever key is held (``check-config`` proves the credentials)."""
        with self._lock:
            self._api_key = None
            self._api_key = login()
            self.logins += 1
            return self._api_key

    def account_id(self, discover: Callable[[], str]) -> str:
        """The account found by ``discover`` (GET accounts.json), asked once."""
        with self._lock:
            known = self._account_id
        if known is not None:
            return known
        found = discover()  # outside the lock: it needs the api_key, which takes it
        with self._lock:
            self._account_id = self._account_id or found
            return self._account_id


_SESSIONS: dict[tuple[str, str], Session] = {}
_SESSIONS_LOCK = threading.Lock()


def session_for(base_url: str, login: str) -> Session:
    """The process-wide session of ``login`` at ``base_url``."""
    with _SESSIONS_LOCK:
        return _SESSIONS.setdefault((base_url, login), Session())


def forget_sessions() -> None:
    """Drop every cached key (tests; a new login follows). Never ends a session upstream."""
    with _SESSIONS_LOCK:
        _SESSIONS.clear()
