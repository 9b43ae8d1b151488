"""A test client that sends webhooks the way a real WooCommerce shop does.

Our tests, the ``demo`` command and the benchmarks use it to stand in for a shop. Everything it
does follows docs/woocommerce.md (the section numbers below are that page's):

* the request (section 1.2): ``POST`` to the delivery URL, a fixed set of headers in WooCommerce's
  order, no redirects followed, one 60 s deadline for the whole request;
* the body (1.2.1): ``trim(wp_json_encode($payload))`` -- PHP's compact JSON with ``\\/`` and
  lower-case ``\\uXXXX`` escapes and floats printed without a ``.0`` -- see :func:`php_json_encode`;
* the signature (1.3): base64 HMAC-SHA256 of exactly those bytes, keyed with the stored secret
  after WordPress' entity decoding (``webhooks.signature.compute_signature``);
* outcome bookkeeping (1.5): 200..302 is success; anything else, including transport errors,
  counts towards auto-disable; no retries; events for a webhook that is not active are lost;
* the ping (2): a form-encoded ``webhook_id=<id>`` POST with no WooCommerce headers, where only
  HTTP 200 counts;
* the payloads (3): full orders, ``{"id": n}`` for ``order.deleted``, ``{"action", "arg"}`` for
  ``action.*`` topics and REST error objects, which WooCommerce signs and sends like orders.

Requests go out through :mod:`http.client` so that header order and body bytes are exactly what
this module built. Time comes from an injectable clock so Delivery-IDs are reproducible in tests.

Known simplifications: the transport headers follow the order given in section 7.2 (real cURL may
interleave them differently); WordPress' refusal of private/odd-port URLs (1.4) is not imitated,
because our own tests deliver to 127.0.0.1; and the shop-side queueing (1.1: Action Scheduler,
de-duplication of pending deliveries) is left to the caller.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import hmac
import http.client
import math
import selectors
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from bridge.woocommerce.php_json import php_float_repr, php_json_encode
from webhooks.signature import compute_signature

__all__ = [
    "DEFAULT_SALT",
    "DELIVERY_TIMEOUT",
    "PING_TIMEOUT",
    "DeliveryResult",
    "PreparedDelivery",
    "WooCommerceWebhook",
    "action_payload",
    "deleted_payload",
    "delivery_id",
    "error_payload",
    "is_delivery_success",
    "php_float_repr",
    "php_json_encode",
    "send_prepared",
    "send_with_test_client",
    "split_topic",
]

WebhookStatus = Literal["active", "paused", "disabled"]

# Any fixed string will do: real shops use their own AUTH_SALT, receivers never see it.
DEFAULT_SALT = "invoice-bridge-test-salt"

# Section 1.2 / 2: deliveries wait one minute in total; the ping uses WordPress' 5 s default.
DELIVERY_TIMEOUT = 60.0
PING_TIMEOUT = 5.0
# Section 2: the ping goes through WordPress' default redirect handling (up to 5 hops).
PING_REDIRECTS = 5
# libcurl waits this long for "100 Continue" before sending the body anyway.
EXPECT_CONTINUE_WAIT = 1.0
# Old libcurl added "Expect: 100-continue" to POST bodies larger than this (section 1.2).
EXPECT_CONTINUE_THRESHOLD = 1024


# --------------------------------------------------------------------------------------------
# Identifiers, topics and payloads (sections 1.2, 3)
# --------------------------------------------------------------------------------------------


def delivery_id(webhook_id: int, salt: str, unix_time: int) -> str:
    """``X-WC-Webhook-Delivery-ID``: ``wp_hash(webhook_id . time())``, i.e. HMAC-MD5 with the salt.

    The time has one-second resolution, so two deliveries of the same webhook within the same
    second share an ID -- as on a real shop. Receivers must not use it as an idempotency key.
    """
    message = f"{webhook_id}{unix_time}".encode()
    return hmac.new(salt.encode("utf-8"), message, hashlib.md5).hexdigest()


def split_topic(topic: str) -> tuple[str, str]:
    """``(resource, event)`` as WooCommerce derives them: the first two dot-separated parts.

    ``order.updated`` -> ``("order", "updated")``; ``action.woocommerce_order_status_completed``
    -> ``("action", "woocommerce_order_status_completed")``. A third part would be ignored, as
    WooCommerce's ``explode('.', $topic)`` ignores it.
    """
    pieces = topic.split(".")
    if len(pieces) < 2 or not pieces[0] or not pieces[1]:
        raise ValueError(f"webhook topic must look like 'resource.event', got {topic!r}")
    return pieces[0], pieces[1]


def deleted_payload(order_id: int) -> dict[str, int]:
    """The whole body of ``order.deleted`` (and other ``*.deleted`` topics): just the ID."""
    return {"id": order_id}


def action_payload(hook: str, arg: Any) -> dict[str, Any]:
    """The body of an ``action.<hook>`` topic: the hook name and its first argument."""
    return {"action": hook, "arg": arg}


def error_payload(code: str, message: str, status: int) -> dict[str, Any]:
    """A REST error object, which WooCommerce sends (signed) when it cannot build the order.

    E.g. ``error_payload("woocommerce_rest_cannot_view", "Sorry, you cannot view this
    resource.", 401)`` or ``error_payload("woocommerce_rest_shop_order_invalid_id",
    "Invalid ID.", 404)``.
    """
    return {"code": code, "message": message, "data": {"status": status}}


# --------------------------------------------------------------------------------------------
# Requests and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedDelivery:
    """One HTTP request, fully built: the exact method, URL, header list and body bytes.

    ``Host`` is not in ``headers``; it is derived from ``url`` when sending, as HTTP clients do.
    """

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    timeout: float = DELIVERY_TIMEOUT
    topic: str | None = None
    delivery_id: str | None = None
    max_redirects: int = 0

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def host(self) -> str:
        """The ``Host`` header value: host, plus the port when it is not the scheme's default."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        default_port = 443 if parts.scheme == "https" else 80
        return host if parts.port in (None, default_port) else f"{host}:{parts.port}"

    @property
    def target(self) -> str:
        """The request-target: path and query of ``url``."""
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one delivery (or ping), as WooCommerce would log it.

    ``status_code`` is 0 when no HTTP response arrived (WordPress returns a ``WP_Error``).
    ``skipped`` means nothing was sent because the webhook was not active.
    """

    status_code: int
    ok: bool
    body: bytes = b""
    error: str | None = None
    duration: float = 0.0
    skipped: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)
    request: PreparedDelivery | None = None
    redirects: int = 0
    follow_up_ping: DeliveryResult | None = None


def is_delivery_success(status_code: int) -> bool:
    """Section 1.5: 2xx, 300, 301 and 302 count as delivered; redirects are not followed."""
    return 200 <= status_code <= 302


# --------------------------------------------------------------------------------------------
# HTTP transport
# --------------------------------------------------------------------------------------------


class _Deadline:
    """Aborts the socket when the whole-request time budget runs out.

    Socket timeouts only bound each read or write; a receiver that trickles its answer byte by
    byte would never trip them. cURL's ``CURLOPT_TIMEOUT`` (what WordPress sets) bounds the lot.
    """

    def __init__(self, seconds: float) -> None:
        self.expires = time.monotonic() + seconds
        self.fired = False
        self._finished = False
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        left = self.expires - time.monotonic()
        if left <= 0:
            self.fired = True
            raise TimeoutError("deadline reached")
        return left

    def arm(self, sock: socket.socket) -> None:
        self._timer = threading.Timer(self.remaining(), self._abort, args=(sock,))
        self._timer.daemon = True
        self._timer.start()

    def finish(self) -> bool:
        """Stop the watchdog; True if it had already cut the connection."""
        with self._lock:
            self._finished = True
        if self._timer is not None:
            self._timer.cancel()
        return self.fired

    def _abort(self, sock: socket.socket) -> None:
        # After a shutdown the reader sees EOF, which can look like a short but complete answer;
        # `fired` makes sure that still counts as a timeout.
        with self._lock:
            if self._finished:
                return
            self.fired = True
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Http10Connection(http.client.HTTPConnection):
    _http_vsn = 10
    _http_vsn_str = "HTTP/1.0"


class _Https10Connection(http.client.HTTPSConnection):
    _http_vsn = 10
    _http_vsn_str = "HTTP/1.0"


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def send_prepared(prepared: PreparedDelivery, *, http_version: str = "HTTP/1.1") -> DeliveryResult:
    """Send one prepared request and report the outcome; touches no webhook state.

    Redirects are followed only up to ``prepared.max_redirects`` (0 for deliveries). A 302 or
    303 turns the follow-up into a body-less GET, as WordPress does.
    """
    started = time.monotonic()
    current, hops = prepared, 0
    while True:
        reply, error = _exchange_once(current, http_version)
        if reply is None:
            return _result(prepared, 0, error=error, started=started, redirects=hops)
        following = prepared.max_redirects > 0 and _is_redirect(reply.status)
        if following and hops >= prepared.max_redirects:
            # Requests throws "Too many redirects"; WordPress turns it into a WP_Error.
            error = f"Too many redirects (more than {prepared.max_redirects})"
            return _result(prepared, 0, error=error, started=started, redirects=hops)
        location = _header(reply.headers, "Location")
        if not (following and location):
            return _result(prepared, reply.status, reply=reply, started=started, redirects=hops)
        current, hops = _redirected(current, reply.status, location), hops + 1


def _result(
    prepared: PreparedDelivery,
    status: int,
    *,
    started: float,
    redirects: int,
    reply: _Reply | None = None,
    error: str | None = None,
) -> DeliveryResult:
    return DeliveryResult(
        status_code=status,
        ok=is_delivery_success(status),
        body=reply.body if reply else b"",
        error=error,
        duration=time.monotonic() - started,
        headers=reply.headers if reply else [],
        request=prepared,
        redirects=redirects,
    )


def _is_redirect(status: int) -> bool:
    # WordPress/Requests' Response::is_redirect().
    return status in (300, 301, 302, 303, 307) or 307 < status < 400


def _redirected(prepared: PreparedDelivery, status: int, location: str) -> PreparedDelivery:
    url = urljoin(prepared.url, location)
    if status not in (302, 303):
        return replace(prepared, url=url)
    # WP_Http::browser_redirect_compatibility (302) and Requests (303) switch to GET.
    dropped = {"content-type", "content-length"}
    headers = [(k, v) for k, v in prepared.headers if k.lower() not in dropped]
    return replace(prepared, method="GET", url=url, headers=headers, body=b"")


def _exchange_once(
    prepared: PreparedDelivery, http_version: str
) -> tuple[_Reply | None, str | None]:
    """One request/response over a fresh connection; ``(reply, None)`` or ``(None, error)``."""
    deadline = _Deadline(prepared.timeout)
    conn: http.client.HTTPConnection | None = None
    try:
        conn = _connect(prepared.url, http_version, deadline)
        if conn.sock is None:
            raise ConnectionError("no socket after connect")
        deadline.arm(conn.sock)
        _write_request(conn, prepared, deadline)
        reply = _read_reply(conn)
        if deadline.finish():
            raise TimeoutError("deadline reached while reading the answer")
        return reply, None
    except (OSError, EOFError, zlib.error, http.client.HTTPException, ValueError) as exc:
        if deadline.fired or isinstance(exc, TimeoutError):
            return None, f"Operation timed out after {prepared.timeout:g} s ({exc or 'timeout'})"
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        deadline.finish()
        if conn is not None:
            conn.close()


def _connect(url: str, http_version: str, deadline: _Deadline) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # WordPress answers such URLs with a WP_Error before any network activity.
        raise ValueError("A valid URL was not provided.")
    old = http_version == "HTTP/1.0"
    if parts.scheme == "https":
        https_cls = _Https10Connection if old else http.client.HTTPSConnection
        conn: http.client.HTTPConnection = https_cls(
            parts.hostname, parts.port, timeout=deadline.remaining()
        )
    else:
        http_cls = _Http10Connection if old else http.client.HTTPConnection
        conn = http_cls(parts.hostname, parts.port, timeout=deadline.remaining())
    conn.connect()
    return conn


def _write_request(
    conn: http.client.HTTPConnection, prepared: PreparedDelivery, deadline: _Deadline
) -> None:
    # skip_host / skip_accept_encoding: http.client must not add headers of its own.
    conn.putrequest(prepared.method, prepared.target, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", prepared.host)
    for name, value in prepared.headers:
        conn.putheader(name, value)
    expects_continue = (prepared.header("Expect") or "").lower() == "100-continue"
    if not expects_continue or not prepared.body:
        conn.endheaders(prepared.body or None)
        return
    conn.endheaders()
    if _server_allows_body(conn, deadline):
        conn.send(prepared.body)


def _server_allows_body(conn: http.client.HTTPConnection, deadline: _Deadline) -> bool:
    """After ``Expect: 100-continue``: send the body unless a final response came first."""
    sock = conn.sock
    if sock is None or isinstance(sock, ssl.SSLSocket):
        return True  # TLS records cannot be peeked at; just send the body
    # selectors, not select.select(): that refuses descriptors past 1024 (FD_SETSIZE)
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        ready = selector.select(min(EXPECT_CONTINUE_WAIT, deadline.remaining()))
    if not ready:
        return True  # libcurl gives up waiting and sends the body anyway
    head = sock.recv(12, socket.MSG_PEEK)
    # http.client skips an interim "100 Continue" when it reads the response later.
    return head in (b"HTTP/1.1 100", b"HTTP/1.0 100") or not head


def _read_reply(conn: http.client.HTTPConnection) -> _Reply:
    response = conn.getresponse()
    headers = response.getheaders()
    raw = response.read()
    return _Reply(response.status, headers, _decode_body(raw, _header(headers, "Content-Encoding")))


def _decode_body(raw: bytes, encoding: str | None) -> bytes:
    # We advertise "deflate, gzip" like cURL, so like cURL we must undo them.
    encoding = (encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(raw)
    if encoding == "deflate":
        try:
            return zlib.decompress(raw)
        except zlib.error:
            return zlib.decompress(raw, -zlib.MAX_WBITS)  # raw deflate without zlib header
    return raw


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def send_with_test_client(client: Any, path: str, prepared: PreparedDelivery) -> Any:
    """Post ``prepared`` through a Flask/werkzeug test client: same method, headers and bytes.

    No socket is involved, so this is the fast path for unit tests. Redirects are not followed.
    """
    return client.open(
        path,
        method=prepared.method,
        data=prepared.body,
        headers=list(prepared.headers),
        follow_redirects=False,
    )


# --------------------------------------------------------------------------------------------
# The webhook
# --------------------------------------------------------------------------------------------


@dataclass
class WooCommerceWebhook:
    """One webhook as configured in a shop, plus the delivery state WooCommerce keeps for it.

    ``secret`` is the value as WooCommerce stores and shows it (``&`` appears as ``&amp;``); it is
    decoded before signing, like WooCommerce does. ``clock`` returns Unix seconds or a datetime and
    feeds the Delivery-ID, so tests can pin it.
    """

    delivery_url: str
    secret: str
    webhook_id: int = 1
    source: str = "https://shop.example/"
    wc_version: str = "9.9.5"
    wp_version: str = "6.8.1"
    salt: str = DEFAULT_SALT
    timeout: float = DELIVERY_TIMEOUT
    max_failures: int = 5
    failure_count: int = 0
    status: WebhookStatus = "active"
    # New webhooks are pinged until one ping gets a 200 (section 2).
    pending_delivery: bool = True
    # Headers a plugin adds through the woocommerce_webhook_http_args filter.
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    # Send "Expect: 100-continue" on bodies over 1 KiB, like shops on older WordPress (1.2).
    expect_continue: bool = False
    # Section 2: while pending_delivery is still set, the save after each delivery pings again.
    ping_while_pending: bool = False
    http_version: str = "HTTP/1.1"
    clock: Callable[[], float | datetime] = time.time
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @property
    def user_agent(self) -> str:
        return f"WooCommerce/{self.wc_version} Hookshot (WordPress/{self.wp_version})"

    # -- building ---------------------------------------------------------------------------

    def build(
        self,
        topic: str,
        payload: Any = None,
        *,
        now: float | datetime | None = None,
        body: bytes | None = None,
        signature: str | None = None,
    ) -> PreparedDelivery:
        """The request WooCommerce would send for ``payload`` on ``topic``.

        ``body`` replaces the encoded payload and ``signature`` the computed one, so tests can
        send tampered bytes or a wrong signature. When only ``body`` is given it is signed.
        """
        resource, event = split_topic(topic)
        data = php_json_encode(payload) if body is None else body
        unix_time = _unix_seconds(self.clock() if now is None else now)
        delivery = delivery_id(self.webhook_id, self.salt, unix_time)
        headers = [("User-Agent", self.user_agent)]
        headers += self._wc_headers(topic, resource, event, data, signature, delivery)
        headers += self._transport_headers(len(data))
        return PreparedDelivery(
            "POST", self.delivery_url, headers, data, self.timeout, topic, delivery
        )

    def _wc_headers(
        self,
        topic: str,
        resource: str,
        event: str,
        body: bytes,
        signature: str | None,
        delivery: str,
    ) -> list[tuple[str, str]]:
        # A PHP array: plugin headers come after Content-Type; the X-WC-* assignments then
        # overwrite a same-named plugin header in place rather than adding a second one.
        headers: dict[str, str] = {"Content-Type": "application/json"}
        headers.update(self.extra_headers)
        headers["X-WC-Webhook-Source"] = self.source
        headers["X-WC-Webhook-Topic"] = topic
        headers["X-WC-Webhook-Resource"] = resource
        headers["X-WC-Webhook-Event"] = event
        headers["X-WC-Webhook-Signature"] = (
            compute_signature(body, self.secret) if signature is None else signature
        )
        headers["X-WC-Webhook-ID"] = str(self.webhook_id)
        headers["X-WC-Webhook-Delivery-ID"] = delivery
        return list(headers.items())

    def _transport_headers(self, length: int) -> list[tuple[str, str]]:
        # Added by WordPress' HTTP layer (Requests + cURL), not by WooCommerce (section 1.2).
        headers = [
            ("Accept", "*/*"),
            ("Accept-Encoding", "deflate, gzip"),
            ("Connection", "close"),
            ("Content-Length", str(length)),
        ]
        if self.expect_continue and length > EXPECT_CONTINUE_THRESHOLD:
            headers.append(("Expect", "100-continue"))
        return headers

    def build_ping(self) -> PreparedDelivery:
        """The ping request (section 2): ``webhook_id=<id>``, form-encoded, unsigned."""
        body = f"webhook_id={self.webhook_id}".encode("ascii")
        headers = [
            ("User-Agent", self.user_agent),
            ("Accept", "*/*"),
            ("Accept-Encoding", "deflate, gzip"),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            # WooCommerce sets no Content-Type; cURL adds this one for a string POST body.
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]
        return PreparedDelivery(
            "POST", self.delivery_url, headers, body, PING_TIMEOUT, max_redirects=PING_REDIRECTS
        )

    # -- sending ----------------------------------------------------------------------------

    def deliver(
        self,
        topic: str,
        payload: Any = None,
        *,
        force: bool = False,
        **build_options: Any,
    ) -> DeliveryResult:
        """Send one event over HTTP and update ``failure_count``/``status`` like WooCommerce.

        While the webhook is not active nothing is sent and the event is lost (a skipped result).
        ``force=True`` sends anyway, like an Action Scheduler job queued before the webhook was
        disabled (section 1.1). ``build_options`` go to :meth:`build`.
        """
        if self.status != "active" and not force:
            return DeliveryResult(
                0, False, error=f"webhook is {self.status}; event dropped", skipped=True
            )
        prepared = self.build(topic, payload, **build_options)
        result = send_prepared(prepared, http_version=self.http_version)
        self._record(result.status_code)
        if self.ping_while_pending and self.pending_delivery and self.status == "active":
            return replace(result, follow_up_ping=self.ping())
        return result

    def _record(self, status_code: int) -> None:
        # WC_Webhook::log_delivery() / failed_delivery(): a success clears the counter; a failure
        # disables the webhook once the counter already exceeds the limit, else increments it.
        with self._lock:
            if is_delivery_success(status_code):
                self.failure_count = 0
            elif self.failure_count > self.max_failures:
                self.status = "disabled"
            else:
                self.failure_count += 1

    def ping(self, *, timeout: float = PING_TIMEOUT) -> DeliveryResult:
        """Send the ping; only HTTP 200 counts, and ``failure_count`` is never touched.

        On a 200, ``pending_delivery`` is cleared. WooCommerce pings active webhooks on creation
        and on a URL change; here the caller decides when, and the status is not checked.
        """
        prepared = self.build_ping()
        if timeout != PING_TIMEOUT:
            prepared = replace(prepared, timeout=timeout)
        sent = send_prepared(prepared, http_version=self.http_version)
        if sent.status_code == 200:
            self.pending_delivery = False
        return replace(sent, ok=sent.status_code == 200)

    # -- status changes (admin screen / REST) -------------------------------------------------

    def activate(self) -> None:
        """Set the status back to active. Like WooCommerce, this keeps ``failure_count``."""
        self.status = "active"

    def pause(self) -> None:
        self.status = "paused"

    def disable(self) -> None:
        self.status = "disabled"


def _unix_seconds(moment: float | datetime) -> int:
    """PHP's ``time()``: whole seconds, rounded down."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (UTC) or Unix seconds")
        moment = moment.timestamp()
    return math.floor(moment)
