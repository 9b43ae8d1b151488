"""The session: one login per (base URL, login) in the process, reused by every thread and
shop; a 401 makes one new login however many threads saw it. The login itself is a fake at
the edge (it counts); tests/integration/test_facturagem_adapter.py does it over HTTP."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bridge.errors import UpstreamAuthError
from bridge.upstreams.facturagem.auth import Session, forget_sessions, session_for


class FakeLogin:
    def __init__(self, keys: list[str], delay: float = 0.0) -> None:
        self.keys, self.delay, self.calls = keys, delay, 0
        self.lock = threading.Lock()

    def __call__(self) -> str:
        time.sleep(self.delay)  # long enough for other threads to pile up behind the lock
        with self.lock:
            self.calls += 1
            return self.keys[min(self.calls, len(self.keys)) - 1]


def test_the_key_is_fetched_once_and_shared_by_every_thread() -> None:
    session, login = Session(), FakeLogin(["k1"], delay=0.05)
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: session.api_key(login), range(16)))
    assert keys == ["k1"] * 16 and login.calls == 1 == session.logins


def test_a_refused_key_is_renewed_once_however_many_threads_saw_the_401() -> None:
    session, login = Session(), FakeLogin(["old", "new"], delay=0.05)
    rejected = session.api_key(login)
    with ThreadPoolExecutor(8) as pool:
        renewed = list(pool.map(lambda _: session.renew(rejected, login), range(8)))
    assert renewed == ["new"] * 8 and login.calls == 2


def test_a_renewal_that_returns_the_same_key_is_still_one_login() -> None:
    session, login = Session(), FakeLogin(["same"])
    key = session.api_key(login)
    assert session.renew(key, login) == "same" and login.calls == 2
    assert session.renew("an-older-key", login) == "same" and login.calls == 2


def test_a_refused_login_leaves_no_key_behind() -> None:
    session = Session()

    def refused() -> str:
        raise UpstreamAuthError("HTTP 401: login refused", http_status=401)

    key = session.api_key(FakeLogin(["k1"]))
    with pytest.raises(UpstreamAuthError):
        session.renew(key, refused)
    login = FakeLogin(["k2"])
    assert session.api_key(login) == "k2" and login.calls == 1


def test_login_now_logs_in_whatever_key_is_held() -> None:
    session, login = Session(), FakeLogin(["k1", "k2"])
    session.api_key(login)
    assert session.login_now(login) == "k2" and login.calls == 2


def test_the_account_is_asked_for_once() -> None:
    session, asked = Session(), []
    assert session.account_id(lambda: asked.append(1) or "1-tienda") == "1-tienda"
    assert session.account_id(lambda: asked.append(1) or "2-other") == "1-tienda"
    assert asked == [1]


def test_sessions_are_per_base_url_and_login() -> None:
    forget_sessions()
    first = session_for("https://facturagem.com/api/v1", "ana@tienda.example")
    assert session_for("https://facturagem.com/api/v1", "ana@tienda.example") is first
    assert session_for("https://facturagem.com/api/v1", "luis@tienda.example") is not first
    assert session_for("https://invoicefu.com/api/v1", "ana@tienda.example") is not first
    forget_sessions()
    assert session_for("https://facturagem.com/api/v1", "ana@tienda.example") is not first
