"""The web edge of ``invoice-bridge run`` (a real waitress server on loopback): hostile
requests are refused without stalling anyone else."""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bridge.config.model import Settings
from bridge.embedded import EmbeddedService
from bridge.logs import configure_logging
from tests.conftest import SHOP

HEADER_80KB = "x" * 80_000
PATH_40KB = f"/admin/api/orders/{'x' * 40_000}/1"


RESET = -1  # the server closed the connection on a request it had refused


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The logging ``run`` configures (JSON lines, masked): the work the refusals log is
    part of what is measured here. pytest's own capture handlers are put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("json", "INFO")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def service(settings: Settings, json_logs: None) -> Iterator[EmbeddedService]:
    with EmbeddedService(settings, host="127.0.0.1", port=0, threads=4) as running:
        yield running


def raw(port: int, method: str, path: str, headers: dict[str, str] | None = None,
        body: bytes = b"", sent: threading.Event | None = None) -> int:
    """The status of one request on its own connection, or ``RESET``; ``sent`` is set once
    the request is on the wire (or the server cut it short)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        if sent is not None:
            sent.set()
        return connection.getresponse().status
    except ConnectionError:
        # a server that refuses oversize headers may answer 431 and close before the client
        # has sent (or read) everything; the kernel then resets the connection
        return RESET
    finally:
        if sent is not None:
            sent.set()
        connection.close()


# The guard is not a measurement: before the fix, each 80 KB header held the whole process
# for about 11 s (quadratic log masking) and each 40 KB path about 3 s, so these requests
# took 1.5 minutes one after the other, and /healthz waited behind them.
@pytest.mark.timeout(60)
def test_huge_headers_and_paths_are_refused_while_healthz_keeps_answering(
        service: EmbeddedService) -> None:
    port = service.server.effective_port
    forged = {"Content-Type": "application/json", "X-WC-Webhook-Topic": "order.created",
              "X-WC-Webhook-Signature": "forged"}
    hostile: list[tuple[str, str, dict[str, str]]] = []
    for size in (80_000, 12_000):  # over the server's header cap, and under it (the app's)
        hostile += [("POST", f"/webhooks/woocommerce/{SHOP}",
                     {**forged, "X-WC-Webhook-Delivery-ID": "x" * size})] * 6
    for size in (40_000, 12_000):
        hostile += [("GET", f"/admin/api/orders/{'x' * size}/1", {})] * 6

    events: list[tuple[str, int]] = []
    lock = threading.Lock()
    sent = [threading.Event() for _ in hostile]

    def attack(index: int) -> None:
        method, path, headers = hostile[index]
        status = raw(port, method, path, headers, b"{}" if method == "POST" else b"",
                     sent[index])
        with lock:
            events.append((f"hostile {index}", status))

    threads = [threading.Thread(target=attack, args=(i,)) for i in range(len(hostile))]
    for thread in threads:
        thread.start()
    for event in sent:
        assert event.wait(30)
    # every hostile request is on the wire: the process must still answer its probe
    for _ in range(3):
        status = raw(port, "GET", "/healthz")
        with lock:
            events.append(("healthz", status))
    for thread in threads:
        thread.join()

    answered = dict(events)
    assert [status for name, status in events if name == "healthz"] == [200, 200, 200]
    statuses = [answered[f"hostile {i}"] for i in range(len(hostile))]
    # over the cap: 431 from the server (or its reset); under it: the app refuses (no
    # signature / no token), and logs the refusal
    over_cap = statuses[:6] + statuses[12:18]
    assert set(over_cap) <= {431, RESET} and 431 in over_cap
    assert statuses[6:12] + statuses[18:] == [401] * 12
    assert requests.get(f"{service.url}/healthz", timeout=10).status_code == 200


def test_bodies_over_the_limit_are_refused_by_the_server(make_settings: Any) -> None:
    settings = make_settings({"server": {"max_body_bytes": 4096}})
    with EmbeddedService(settings, host="127.0.0.1", port=0) as running:
        response = requests.post(f"{running.url}/webhooks/woocommerce/{SHOP}",
                                 data=b"x" * 5000, timeout=10)
    # waitress's own answer (not the app's JSON): it did not buffer the body for the app
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("text/plain")
