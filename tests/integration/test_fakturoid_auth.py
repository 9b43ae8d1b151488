"""OAuth Client Credentials against the simulated Fakturoid, over real HTTP: one token per
credential pair for the whole process (every adapter, every thread), renewed before it
expires, renewed once -- and only once -- on a 401, and a refused credential pauses the shop
instead of looping."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.errors import UpstreamAuthError
from bridge.upstreams.fakturoid import assumptions as fak
from bridge.upstreams.fakturoid.adapter import FakturoidUpstream
from bridge.upstreams.fakturoid.auth import TokenStore
from sandbox.fakturoid import DEMO_CLIENT_ID, DEMO_USER_AGENT, RunningSimulator, SimulatorState
from sandbox.fakturoid import run_simulator as run_fakturoid
from sandbox.fakturoid.harness import adapter_settings

PAYLOAD = {"invoice": {"custom_id": "shop:1"}}


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_fakturoid(state=SimulatorState()) as running:
        yield running


_opened: list[FakturoidUpstream] = []


@pytest.fixture(autouse=True)
def _close_adapters() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def adapter(simulator: RunningSimulator, **options: Any) -> FakturoidUpstream:
    upstream = FakturoidUpstream(adapter_settings(simulator.url, read_timeout=5.0), **options)
    _opened.append(upstream)
    return upstream


def issued(simulator: RunningSimulator) -> int:
    return int(simulator.state.stats().get("tokens_issued", 0))


def statuses(simulator: RunningSimulator) -> list[int | None]:
    return [entry["status"] for entry in simulator.state.request_log()]


def test_one_token_for_every_adapter_and_thread_of_the_process(
        simulator: RunningSimulator) -> None:
    """The default store is process-wide: two shops' adapters and 16 threads ask once. With
    Fakturoid possibly invalidating the previous token on each new one, two fetches racing
    would knock each other out."""
    simulator.state.configure(invalidate_previous_tokens=True)
    adapters = [adapter(simulator), adapter(simulator)]
    failures: list[BaseException] = []

    def look(upstream: FakturoidUpstream) -> None:
        try:
            for _ in range(3):
                assert upstream.find_invoice(PAYLOAD) is None
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=look, args=(adapters[n % 2],)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == [] and issued(simulator) == 1
    assert 401 not in statuses(simulator)
    # every request carried the configured User-Agent, never the library's
    assert {entry["user_agent"] for entry in simulator.state.request_log()} == {
        DEMO_USER_AGENT}


def test_the_token_is_renewed_before_it_expires(simulator: RunningSimulator) -> None:
    now = [1000.0]
    upstream = adapter(simulator, tokens=TokenStore(clock=lambda: now[0]))
    upstream.find_invoice(PAYLOAD)
    now[0] += fak.TOKEN_LIFETIME - fak.TOKEN_RENEW_MARGIN - 1
    upstream.find_invoice(PAYLOAD)
    assert issued(simulator) == 1  # still well within its life
    now[0] += 2  # inside the margin: renewed before Fakturoid would refuse it
    upstream.find_invoice(PAYLOAD)
    assert issued(simulator) == 2 and 401 not in statuses(simulator)


def test_a_401_renews_the_token_once_and_the_request_goes_through(
        simulator: RunningSimulator) -> None:
    upstream = adapter(simulator, tokens=TokenStore())
    upstream.find_invoice(PAYLOAD)
    simulator.state.expire_tokens()  # Fakturoid forgot it (expired by its own clock)
    assert upstream.find_invoice(PAYLOAD) is None
    assert issued(simulator) == 2 and statuses(simulator).count(401) == 1


def test_a_token_another_thread_renewed_is_used_not_renewed_again(
        simulator: RunningSimulator) -> None:
    upstream = adapter(simulator, tokens=TokenStore())
    auth = upstream.api.auth
    stale = dict(auth.headers())
    simulator.state.expire_tokens()
    assert auth.renew(stale) and issued(simulator) == 2  # the first thread renews
    assert auth.renew(stale) and issued(simulator) == 2  # the second finds it done
    assert auth.headers() != stale and upstream.find_invoice(PAYLOAD) is None


def test_a_401_that_a_new_token_does_not_cure_is_an_account_error(
        simulator: RunningSimulator) -> None:
    upstream = adapter(simulator, tokens=TokenStore())
    simulator.state.configure(fault_targets=("subjects",))
    simulator.state.add_fault("401", times=5)
    with pytest.raises(UpstreamAuthError) as raised:
        upstream.create_invoice({"subject": {"custom_id": "shop:order:1", "name": "X"},
                                 "invoice": {}})
    assert not raised.value.ambiguous and raised.value.http_status == 401
    assert issued(simulator) == 2  # the first token, and exactly one renewal


def test_revoked_credentials_pause_the_shop(simulator: RunningSimulator) -> None:
    upstream = adapter(simulator, tokens=TokenStore())
    upstream.find_invoice(PAYLOAD)
    simulator.state.revoke_client(DEMO_CLIENT_ID)  # deleted in Settings > User account
    with pytest.raises(UpstreamAuthError) as raised:
        upstream.find_invoice(PAYLOAD)
    assert not raised.value.ambiguous
    assert "token endpoint (check client_id, client_secret and user_agent)" in str(
        raised.value)
    assert "invalid_client" in str(raised.value)
