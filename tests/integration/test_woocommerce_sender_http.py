"""The WooCommerce-faithful sender over real HTTP, against a recording server on 127.0.0.1.

The server reads requests straight off the socket, so the tests see the exact request line,
header order and body bytes, and answers with whatever status a test queues.
Reference: docs/woocommerce.md sections 1.2, 1.5, 2, 7.2.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import sandbox.woocommerce.sender as sender_module
from sandbox.woocommerce.sender import (
    WooCommerceWebhook,
    action_payload,
    deleted_payload,
    php_json_encode,
    send_prepared,
)
from webhooks.signature import verify_signature

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "wc_test_secret"
NOW = 1_743_588_936


@dataclass
class Reply:
    """How the recording server answers one request."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b"ok"
    delay: float = 0.0  # before answering
    drip: float = 0.0  # pause between single bytes of the answer
    send_continue: bool = True  # answer "Expect: 100-continue" with an interim 100
    early: bool = False  # answer before reading the body


@dataclass
class Recorded:
    head: bytes  # request line and headers, exactly as received
    request_line: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class RecordingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.requests: list[Recorded] = []
        self.replies: deque[Reply] = deque()
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str = "/webhooks/woocommerce") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 3.0) -> list[Recorded]:
        """The recorded requests once ``count`` have arrived (the server may record late)."""
        give_up = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < give_up:
            time.sleep(0.01)
        return list(self.requests)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.popleft() if self.replies else Reply()


class _RecordingHandler(socketserver.BaseRequestHandler):
    server: RecordingServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        try:
            head, rest = _read_head(sock)
            self._answer(sock, head, rest)
        except OSError:
            pass  # the client gave up (timeout tests)

    def _answer(self, sock: socket.socket, head: bytes, rest: bytes) -> None:
        reply = self.server.next_reply()
        lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
        recorded = Recorded(head, lines[0], headers, b"")  # type: ignore[arg-type]
        length = int(recorded.header("Content-Length") or 0)
        if reply.early:
            _send_reply(sock, reply)
            recorded.body = _read_rest(sock, rest, length, wait=0.3)
        else:
            if (recorded.header("Expect") or "").lower() == "100-continue" and reply.send_continue:
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            recorded.body = _read_rest(sock, rest, length, wait=10)
        with self.server.lock:
            self.server.requests.append(recorded)
        if not reply.early:
            time.sleep(reply.delay)
            _send_reply(sock, reply)


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _read_rest(sock: socket.socket, body: bytes, length: int, *, wait: float) -> bytes:
    sock.settimeout(wait)
    try:
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except TimeoutError:
        pass
    return body


def _send_reply(sock: socket.socket, reply: Reply) -> None:
    head = f"HTTP/1.1 {reply.status} Whatever\r\n"
    for name, value in [*reply.headers, ("Content-Length", str(len(reply.body)))]:
        head += f"{name}: {value}\r\n"
    data = (head + "Connection: close\r\n\r\n").encode("latin-1") + reply.body
    if not reply.drip:
        sock.sendall(data)
        return
    for index in range(len(data)):
        sock.sendall(data[index : index + 1])
        time.sleep(reply.drip)


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    srv = RecordingServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def refused_url() -> Iterator[str]:
    # A bound socket that never listens: connecting to it is refused, and no one can take it.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/webhooks/woocommerce"
    finally:
        sock.close()


def make_webhook(url: str, **overrides: Any) -> WooCommerceWebhook:
    return WooCommerceWebhook(url, SECRET, webhook_id=27, clock=lambda: NOW, **overrides)


def example_order() -> Any:
    with (FIXTURES / "woo_order_example_2.json").open(encoding="utf-8") as handle:
        return json.load(handle)


# --------------------------------------------------------------------------------------------
# What the receiver sees
# --------------------------------------------------------------------------------------------


def test_receiver_sees_exactly_our_request(server: RecordingServer) -> None:
    webhook = make_webhook(server.url("/webhooks/woocommerce?shop=1"))
    prepared = webhook.build("order.updated", example_order())
    result = webhook.deliver("order.updated", example_order())

    assert result.ok and result.status_code == 200 and result.body == b"ok"
    [seen] = server.requests
    expected_head = f"POST /webhooks/woocommerce?shop=1 HTTP/1.1\r\nHost: 127.0.0.1:{server.port}"
    for name, value in prepared.headers:
        expected_head += f"\r\n{name}: {value}"
    assert seen.head == expected_head.encode("latin-1")
    assert [name for name, _ in seen.headers] == ["Host"] + [n for n, _ in prepared.headers]
    assert seen.body == php_json_encode(example_order())
    assert len(seen.body) == 4783
    assert verify_signature(seen.body, seen.header("X-WC-Webhook-Signature"), SECRET)
    assert result.request == prepared


def test_deleted_and_action_payloads_on_the_wire(server: RecordingServer) -> None:
    webhook = make_webhook(server.url())
    webhook.deliver("order.deleted", deleted_payload(1203))
    webhook.deliver(
        "action.woocommerce_order_status_completed",
        action_payload("woocommerce_order_status_completed", 1187),
    )
    deleted, action = server.requests
    assert deleted.body == b'{"id":1203}'
    assert deleted.header("X-WC-Webhook-Event") == "deleted"
    assert action.body == b'{"action":"woocommerce_order_status_completed","arg":1187}'
    assert action.header("X-WC-Webhook-Resource") == "action"
    assert action.header("X-WC-Webhook-Event") == "woocommerce_order_status_completed"


def test_tampered_body_arrives_as_given(server: RecordingServer) -> None:
    webhook = make_webhook(server.url())
    good_signature = webhook.build("order.updated", {"id": 1}).header("X-WC-Webhook-Signature")
    webhook.deliver("order.updated", {"id": 1}, body=b'{"id":2}', signature=good_signature)
    [seen] = server.requests
    assert seen.body == b'{"id":2}'
    assert not verify_signature(seen.body, seen.header("X-WC-Webhook-Signature"), SECRET)


def test_http_1_0_request_line(server: RecordingServer) -> None:
    make_webhook(server.url(), http_version="HTTP/1.0").deliver("order.deleted", {"id": 1})
    assert server.requests[0].request_line == "POST /webhooks/woocommerce HTTP/1.0"


# --------------------------------------------------------------------------------------------
# Success and failure (section 1.5)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299, 300, 301, 302])
def test_200_to_302_are_successes_and_reset_the_counter(
    server: RecordingServer, status: int
) -> None:
    webhook = make_webhook(server.url(), failure_count=4)
    server.queue(Reply(status=status, headers=[("Location", server.url("/elsewhere"))]))
    result = webhook.deliver("order.updated", {"id": 1})
    assert (result.status_code, result.ok, result.error) == (status, True, None)
    assert webhook.failure_count == 0
    # Redirects are not followed: exactly one request arrived.
    assert [r.request_line.split()[1] for r in server.requests] == ["/webhooks/woocommerce"]


@pytest.mark.parametrize("status", [303, 304, 307, 400, 401, 403, 404, 410, 429, 500, 502, 503])
def test_other_statuses_are_failures(server: RecordingServer, status: int) -> None:
    webhook = make_webhook(server.url())
    server.queue(Reply(status=status, headers=[("Location", server.url("/elsewhere"))]))
    result = webhook.deliver("order.updated", {"id": 1})
    assert (result.status_code, result.ok) == (status, False)
    assert (webhook.failure_count, webhook.status) == (1, "active")
    assert len(server.requests) == 1


def test_connection_refused_is_a_failure_with_status_0(refused_url: str) -> None:
    webhook = make_webhook(refused_url)
    result = webhook.deliver("order.updated", {"id": 1})
    assert (result.status_code, result.ok, result.skipped) == (0, False, False)
    assert result.error and "Connection" in result.error
    assert webhook.failure_count == 1


def test_seventh_consecutive_failure_disables_and_later_events_are_lost(
    server: RecordingServer,
) -> None:
    webhook = make_webhook(server.url())
    server.queue(*[Reply(status=500) for _ in range(10)])
    for count in range(1, 7):
        assert not webhook.deliver("order.updated", {"id": count}).ok
        assert (webhook.failure_count, webhook.status) == (count, "active")
    webhook.deliver("order.updated", {"id": 7})
    assert (webhook.failure_count, webhook.status) == (6, "disabled")
    skipped = webhook.deliver("order.updated", {"id": 8})
    assert skipped.skipped and not skipped.ok
    assert len(server.requests) == 7


def test_a_success_resets_the_counter(server: RecordingServer) -> None:
    webhook = make_webhook(server.url())
    server.queue(Reply(500), Reply(404), Reply(503), Reply(200), Reply(500))
    for _ in range(3):
        webhook.deliver("order.updated", {"id": 1})
    assert webhook.failure_count == 3
    webhook.deliver("order.updated", {"id": 1})
    assert webhook.failure_count == 0
    webhook.deliver("order.updated", {"id": 1})
    assert (webhook.failure_count, webhook.status) == (1, "active")


def test_reactivated_webhook_keeps_its_counter(server: RecordingServer) -> None:
    webhook = make_webhook(server.url(), failure_count=6, status="disabled")
    webhook.activate()
    server.queue(Reply(500))
    webhook.deliver("order.updated", {"id": 1})
    assert webhook.status == "disabled"


def test_whole_request_timeout_even_when_bytes_keep_trickling(server: RecordingServer) -> None:
    webhook = make_webhook(server.url(), timeout=0.5)
    server.queue(Reply(body=b"x" * 200, drip=0.02))  # ~5 s in total, never 0.5 s silent
    result = webhook.deliver("order.updated", {"id": 1})
    assert (result.status_code, result.ok) == (0, False)
    # cut off by the one deadline, not answered after the ~5 s of trickling (and no timing
    # asserted beyond "it waited for the deadline": the machine may be busy)
    assert result.error and "timed out" in result.error
    assert result.duration > 0.4
    assert webhook.failure_count == 1


def test_slow_receiver_times_out(server: RecordingServer) -> None:
    webhook = make_webhook(server.url(), timeout=0.3)
    server.queue(Reply(delay=1.5))
    result = webhook.deliver("order.updated", {"id": 1})
    assert result.status_code == 0 and "timed out" in (result.error or "")


def test_compressed_answers_are_decoded(server: RecordingServer) -> None:
    server.queue(Reply(body=gzip.compress(b"accepted"), headers=[("Content-Encoding", "gzip")]))
    result = make_webhook(server.url()).deliver("order.updated", {"id": 1})
    assert result.ok and result.body == b"accepted"


# --------------------------------------------------------------------------------------------
# Expect: 100-continue (older WordPress)
# --------------------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_expect_continue_sends_the_body_after_100(server: RecordingServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Were the body held until libcurl's wait ran out rather than sent on the 100, this
    # wait would outlast the timeout guard: no timing is asserted, however busy the machine.
    monkeypatch.setattr(sender_module, "EXPECT_CONTINUE_WAIT", 60.0)
    webhook = make_webhook(server.url(), expect_continue=True)
    result = webhook.deliver("order.updated", example_order())
    assert result.ok
    [seen] = server.requests
    assert seen.header("Expect") == "100-continue"
    assert seen.body == php_json_encode(example_order())


def test_expect_continue_without_100_sends_the_body_after_a_second(
    server: RecordingServer,
) -> None:
    server.queue(Reply(send_continue=False))
    result = make_webhook(server.url(), expect_continue=True).deliver(
        "order.updated", example_order()
    )
    assert result.ok and result.duration >= 0.9
    assert len(server.requests[0].body) == 4783


def test_expect_continue_early_rejection_skips_the_body(server: RecordingServer) -> None:
    server.queue(Reply(status=401, early=True))
    webhook = make_webhook(server.url(), expect_continue=True)
    result = webhook.deliver("order.updated", example_order())
    assert (result.status_code, result.ok) == (401, False)
    [seen] = server.wait_for(1)
    assert seen.body == b""
    assert webhook.failure_count == 1


# --------------------------------------------------------------------------------------------
# The ping (section 2)
# --------------------------------------------------------------------------------------------


def test_ping_is_a_form_post_without_woocommerce_headers(server: RecordingServer) -> None:
    webhook = make_webhook(server.url())
    result = webhook.ping()
    assert result.ok and result.status_code == 200
    assert webhook.pending_delivery is False
    [seen] = server.requests
    assert seen.request_line == "POST /webhooks/woocommerce HTTP/1.1"
    assert seen.body == b"webhook_id=27"
    assert seen.header("Content-Type") == "application/x-www-form-urlencoded"
    assert seen.header("User-Agent") == "WooCommerce/9.9.5 Hookshot (WordPress/6.8.1)"
    assert not [name for name, _ in seen.headers if name.lower().startswith("x-wc-")]


@pytest.mark.parametrize("status", [201, 202, 204, 400, 500])
def test_ping_needs_exactly_200(server: RecordingServer, status: int) -> None:
    webhook = make_webhook(server.url())
    server.queue(Reply(status=status))
    result = webhook.ping()
    assert (result.status_code, result.ok) == (status, False)
    assert webhook.pending_delivery is True
    assert webhook.failure_count == 0  # pings never count towards auto-disable


def test_ping_follows_a_302_as_get(server: RecordingServer) -> None:
    server.queue(Reply(status=302, headers=[("Location", "/moved")]), Reply(status=200))
    result = make_webhook(server.url()).ping()
    assert result.ok and result.redirects == 1
    first, second = server.requests
    assert first.request_line.startswith("POST /webhooks/woocommerce ")
    assert second.request_line.startswith("GET /moved ")
    assert second.body == b""


def test_ping_follows_a_307_keeping_the_post(server: RecordingServer) -> None:
    server.queue(Reply(status=307, headers=[("Location", server.url("/moved"))]), Reply(200))
    assert make_webhook(server.url()).ping().ok
    assert server.requests[1].request_line.startswith("POST /moved ")
    assert server.requests[1].body == b"webhook_id=27"


def test_ping_gives_up_after_five_redirects(server: RecordingServer) -> None:
    server.queue(*[Reply(status=301, headers=[("Location", "/again")]) for _ in range(6)])
    result = make_webhook(server.url()).ping()
    assert (result.status_code, result.ok) == (0, False)
    assert "redirects" in (result.error or "")
    assert len(server.requests) == 6


def test_ping_to_a_closed_port(refused_url: str) -> None:
    result = make_webhook(refused_url).ping()
    assert (result.status_code, result.ok) == (0, False)


def test_ping_while_pending_follows_each_delivery(server: RecordingServer) -> None:
    webhook = make_webhook(server.url(), ping_while_pending=True)
    server.queue(Reply(status=204), Reply(status=200), Reply(status=200), Reply(status=200))
    assert not webhook.ping().ok  # a 204 leaves the webhook pending
    result = webhook.deliver("order.updated", {"id": 1})
    assert result.ok and result.follow_up_ping is not None and result.follow_up_ping.ok
    webhook.deliver("order.updated", {"id": 1})
    bodies = [r.body for r in server.requests]
    assert bodies == [b"webhook_id=27", b'{"id":1}', b"webhook_id=27", b'{"id":1}']


def test_send_prepared_leaves_webhook_state_alone(server: RecordingServer) -> None:
    webhook = make_webhook(server.url())
    server.queue(Reply(status=500))
    result = send_prepared(webhook.build("order.updated", {"id": 1}))
    assert (result.status_code, result.ok) == (500, False)
    assert webhook.failure_count == 0


def test_ping_timeout(server: RecordingServer) -> None:
    server.queue(Reply(delay=1.0))
    result = make_webhook(server.url()).ping(timeout=0.3)
    assert (result.status_code, result.ok) == (0, False)
    assert "timed out" in (result.error or "")


def test_expect_continue_works_with_more_than_1024_open_descriptors(
    server: RecordingServer,
) -> None:
    """select() refuses a descriptor numbered 1024 or more ("filedescriptor out of range");
    a long test run, or a busy process, has that many open."""
    ballast = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        result = make_webhook(server.url(), expect_continue=True).deliver(
            "order.updated", example_order())
    finally:
        for descriptor in ballast:
            os.close(descriptor)
    assert result.ok, result.error
