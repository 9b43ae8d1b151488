"""What the hostile-input suite (tests/acceptance/hostile_suite.py) sends: a seeded, mixed
stream of requests, each built before anything is sent and knowing its expected answer --
and, for an authentic delivery, what must become of it once the worker has drained.

Also the two kinds of request that run beside the stream: ``HeldRequest`` (a forged delivery
left half-sent through the whole burst) and ``Prober`` (``/healthz`` and ``/readyz`` asked
over and over).
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bridge.woocommerce.php_json import php_json_encode
from sandbox.config import bridge_config, merge, write_config
from sandbox.econt import econt_upstream
from sandbox.woocommerce.samples import DEFAULT_CREATED, build_order
from sandbox.woocommerce.sender import WooCommerceWebhook, send_prepared
from tests.acceptance.test_web_edge import RESET, raw
from tests.integration.test_admin_input import ARABIC_INDIC_1187, cursor
from tests.integration.test_poison_deliveries import poison_bodies
from webhooks.signature import compute_signature

SECRET = "hostile_suite_secret_0123"
ADMIN = "hostile-suite-admin-token-0123456789"
SHOP = "shop"
WEBHOOK = f"/webhooks/woocommerce/{SHOP}"
MAX_BODY_BYTES = 2 * 1024 * 1024  # the default, written out: the oversize bodies exceed it

# What must become of an authentic delivery once the worker has drained.
INVOICED = "invoiced once"
INVALID_ROW = "invalid row with a reason"
INVALID_DELIVERY = "invalid delivery with a reason (id unreadable)"
IGNORED = "ignored delivery with a reason"
ERROR_PAYLOAD = "WooCommerce error object, recorded with a reason"
#: the poison snapshot made the row invalid; the shop's corrected snapshot, sent after the
#: burst, was then invoiced
FIXED_LATER = "invalid, then invoiced once fixed in the shop"


@dataclass(frozen=True)
class Size:
    normal_orders: int      # authentic, invoiceable, shuffled into the burst
    tail_orders: int        # sent after the burst and the poison
    poison_rounds: int      # every poison kind this many times, each under its own id
    forged_topics: int
    huge_headers: int       # of each size (80 KB and 12 KB)
    oversized_bodies: int
    huge_paths: int         # of each size (40 KB and 12 KB)
    admin_rounds: int       # every malformed admin request this many times, with and without
    held: int               # forged requests held half-sent through the burst
    clients: int            # client threads sending the burst


CI = Size(normal_orders=60, tail_orders=20, poison_rounds=2, forged_topics=2000, huge_headers=3,
          oversized_bodies=2, huge_paths=3, admin_rounds=2, held=16, clients=6)
FULL = Size(normal_orders=400, tail_orders=50, poison_rounds=10, forged_topics=10_000,
            huge_headers=20, oversized_bodies=10, huge_paths=20, admin_rounds=5, held=32,
            clients=8)


@dataclass
class Planned:
    """One request of the stream."""

    group: str                      # normal | poison | forged | admin | tail
    kind: str
    send: Callable[[], int]         # sends it; the answer's status, or RESET
    expected: frozenset[int]
    body: bytes | None = None       # authentic deliveries: the bytes that must be stored
    order_id: int | None = None     # authentic deliveries: the order the body is about
    fate: str | None = None         # authentic deliveries: what must become of it


def suite_config(directory: Path, db_url: str, upstream: str) -> Path:
    config = bridge_config(econt_upstream(upstream, rate_limit=0), webhook_secret=SECRET,
                           shop_id=SHOP, db_url=db_url, spool_dir=str(directory / "spool"),
                           log_format="json", log_level="INFO")
    return write_config(directory / "config.toml", merge(config, {
        "database": {"auto_migrate": True},
        "server": {"max_body_bytes": MAX_BODY_BYTES},
        "admin": {"tokens": [ADMIN]},
        "dispatch": {"poll_interval": "50ms", "concurrency": 4, "lease": "30s",
                     "connect_timeout": "2s", "read_timeout": "5s", "shutdown_grace": "5s"},
    }))


def plan_stream(hook: WooCommerceWebhook, port: int, size: Size, rng: random.Random
                ) -> list[Planned]:
    """The burst: normal orders, poison, forged and admin requests, shuffled."""
    normal = [authentic(hook, "normal", "normal order", order_bytes(order_id), order_id,
                        INVOICED) for order_id in range(1, size.normal_orders + 1)]
    plan = (normal + poison_plan(hook, size.poison_rounds) + forged_plan(port, size)
            + admin_plan(port, size.admin_rounds))
    rng.shuffle(plan)
    return plan


def tail_plan(hook: WooCommerceWebhook, size: Size) -> list[Planned]:
    """Sent after the burst: new normal orders, and the corrected snapshots of the poison
    orders that were "fixed later in the shop" (newer ``date_modified_gmt``)."""
    plan = [authentic(hook, "tail", "normal order after the burst", order_bytes(order_id),
                      order_id, INVOICED)
            for order_id in range(500_001, 500_001 + size.tail_orders)]
    later = DEFAULT_CREATED + timedelta(days=1)
    for order_id in (_poison_base(round_) + FIXED_LATER_OFFSET
                     for round_ in range(size.poison_rounds)):
        plan.append(authentic(hook, "tail", "poison order fixed in the shop", php_json_encode(
            build_order(order_id=order_id, date_modified_gmt=later)), order_id, INVOICED))
    return plan


# --- authentic deliveries ---------------------------------------------------------------------


def authentic(hook: WooCommerceWebhook, group: str, kind: str, body: bytes, order_id: int,
              fate: str, topic: str = "order.created",
              headers: dict[str, str] | None = None) -> Planned:
    """A delivery signed with the shop's secret, sent as WooCommerce sends it; ``topic``
    and ``headers`` replace what WooCommerce would have put in those headers."""
    prepared = hook.build("order.created", body=body)
    changed = {"X-WC-Webhook-Topic": topic, **(headers or {})}
    prepared = replace(prepared, topic=topic, headers=[
        (name, changed.get(name, value)) for name, value in prepared.headers])
    return Planned(group, kind, lambda: send_prepared(prepared).status_code,
                   frozenset({200}), body=body, order_id=order_id, fate=fate)


def order_bytes(order_id: int, **changes: Any) -> bytes:
    order = build_order(order_id=order_id)
    order.update(changes)
    return php_json_encode(order)


def _cut_off(order_id: int) -> bytes:
    whole = order_bytes(order_id)
    return whole[:len(whole) // 2]  # e.g. a proxy that cut the request short


def _long_email(order_id: int) -> bytes:
    billing = build_order(order_id=order_id)["billing"]
    return order_bytes(order_id, billing={**billing, "email": "a" * 100_000 + "@example.md"})


def _action(order_id: int) -> bytes:
    return b'{"action":"%s","arg":%s}' % (b"a" * 100_000 + b"%d" % order_id,
                                         b"[" * 60 + b"]" * 60)


def _error_object(order_id: int) -> bytes:
    return json.dumps({"code": "c" * 100_000, "message": f"{order_id} " + "m" * 100_000,
                       "data": {"status": 500}}).encode()


def _from_poison_module(kind: str) -> Callable[[int], bytes]:
    return lambda order_id: poison_bodies(order_id)[kind]


#: odd but authentic WooCommerce headers: 12 KB (under the server's cap), partly not ASCII
ODD_HEADERS = {"X-WC-Webhook-Delivery-ID": "d" * 8000, "X-WC-Webhook-ID": "9" * 2000,
               "X-WC-Webhook-Source": "https://\xff\xfe.example/" + "\xe9" * 2000}
FIXED_LATER_OFFSET = 60

#: kind -> (what must become of it, topic, headers, the body for an order id)
POISONS: dict[str, tuple[str, str, dict[str, str] | None, Callable[[int], bytes]]] = {
    **{kind: (fate, "order.created", None, _from_poison_module(kind)) for kind, fate in {
        "status longer than its column": INVALID_ROW,
        "number longer than its column": INVALID_ROW,
        "id of 2^63": INVALID_DELIVERY,
        "JSON nested 1,000 deep": INVALID_ROW,
        "lone surrogate and NUL in a name": INVOICED,  # sanitised, then invoiced
        "3,000 bad lines": INVALID_ROW,
    }.items()},
    "cut-off body": (INVALID_ROW, "order.created", None, _cut_off),
    "body not JSON": (INVALID_DELIVERY, "order.created", None,
                      lambda i: b"<html><body>%d: 502 Bad Gateway</body></html>" % i),
    "body in UTF-16": (INVOICED, "order.created", None,
                       lambda i: order_bytes(i).decode().encode("utf-16")),
    "customer note of 1.5 MB": (INVOICED, "order.created", None,
                                lambda i: order_bytes(i, customer_note="x" * 1_500_000)),
    "billing e-mail of 100 KB": (INVALID_ROW, "order.created", None, _long_email),
    "total of 500 digits": (INVALID_ROW, "order.created", None,
                            lambda i: order_bytes(i, total="1" * 500)),
    "signed, 12 KB of odd X-WC headers": (INVOICED, "order.created", ODD_HEADERS, order_bytes),
    "signed topic order.bogus": (IGNORED, "order.bogus", None, order_bytes),
    "signed topic of 300 chars": (IGNORED, "order." + "x" * 294, None, order_bytes),
    "signed topic coupon.created": (IGNORED, "coupon.created", None, order_bytes),
    "deleted, id of 2^64": (INVALID_DELIVERY, "order.deleted", None,
                            lambda i: b'{"id":%d}' % (2**64 + i)),
    "deleted, body a list": (INVALID_DELIVERY, "order.deleted", None,
                             lambda i: b"[%d,%d]" % (i, i)),
    "action, 100 KB name and deep arg": (IGNORED, "action.woocommerce_order_paid", None,
                                         _action),
    "error object of 200 KB": (ERROR_PAYLOAD, "order.created", None, _error_object),
    "status too long, fixed later in the shop": (
        FIXED_LATER, "order.created", None,
        lambda i: order_bytes(i, status="processing-" + "x" * 40)),
}


def _poison_base(round_: int) -> int:
    return 900_000 + round_ * 100


def poison_plan(hook: WooCommerceWebhook, rounds: int) -> list[Planned]:
    """Every poison kind ``rounds`` times, each under an order id of its own (the one
    "fixed later" at ``FIXED_LATER_OFFSET``)."""
    plan = []
    for round_ in range(rounds):
        for offset, (kind, (fate, topic, headers, body)) in enumerate(POISONS.items()):
            if fate == FIXED_LATER:
                offset = FIXED_LATER_OFFSET
            order_id = _poison_base(round_) + offset
            plan.append(authentic(hook, "poison", kind, body(order_id), order_id, fate, topic,
                                  headers))
    return plan


# --- forged and admin requests ----------------------------------------------------------------


def _request(group: str, kind: str, port: int, method: str, path: str, expected: set[int],
             headers: dict[str, str] | None = None, body: bytes = b"") -> Planned:
    return Planned(group, kind, lambda: raw(port, method, path, headers, body),
                   frozenset(expected))


FORGED = {"Content-Type": "application/json", "X-WC-Webhook-Topic": "order.created",
          "X-WC-Webhook-Signature": "Zm9yZ2Vk"}


def forged_plan(port: int, size: Size) -> list[Planned]:
    body = order_bytes(1)
    plan = []
    for _ in range(size.huge_headers):
        plan.append(_request("forged", "bad signature, 80 KB delivery id", port, "POST",
                             WEBHOOK, {431, RESET},
                             {**FORGED, "X-WC-Webhook-Delivery-ID": "x" * 80_000}, body))
        plan.append(_request("forged", "bad signature, 12 KB delivery id", port, "POST",
                             WEBHOOK, {401},
                             {**FORGED, "X-WC-Webhook-Delivery-ID": "x" * 12_000}, body))
    for index in range(size.forged_topics):
        topic = f"forged.topic.{index:05d}.{'t' * (index % 150)}"
        plan.append(_request("forged", "forged topic", port, "POST", WEBHOOK, {401},
                             {**FORGED, "X-WC-Webhook-Topic": topic}, b'{"id":1}'))
    for index in range(max(1, size.forged_topics // 100)):
        plan.append(_request("forged", "no signature", port, "POST", WEBHOOK, {401},
                             {"Content-Type": "application/json",
                              "X-WC-Webhook-Topic": "order.created"}, body))
        plan.append(_request("forged", "signed with another secret", port, "POST", WEBHOOK,
                             {401}, {**FORGED, "X-WC-Webhook-Signature":
                                     compute_signature(body, "not-the-secret")}, body))
        plan.append(_request("forged", "unknown shop", port, "POST",
                             f"/webhooks/woocommerce/forged-{index}", {404}, FORGED, body))
    for _ in range(size.oversized_bodies):
        plan.append(_request("forged", "body over the limit", port, "POST", WEBHOOK,
                             {413, RESET}, FORGED, b"x" * (MAX_BODY_BYTES + 1)))
    for _ in range(size.huge_paths):
        plan.append(_request("forged", "path of 40 KB", port, "GET",
                             f"/admin/api/orders/{'x' * 40_000}/1", {431, RESET}))
        plan.append(_request("forged", "path of 12 KB", port, "GET",
                             f"/admin/api/orders/{'x' * 12_000}/1", {401}))
        plan.append(_request("forged", "shop id of 12 KB", port, "POST",
                             f"/webhooks/woocommerce/{'x' * 12_000}", {404}, FORGED, body))
    return plan


def _js(value: Any) -> bytes:
    return json.dumps(value).encode()


_ORDERS = "/admin/api/orders"
_DEEP = b"[" * 100_000 + b"]" * 100_000
#: (kind, method, path, body, the answer with the token, without it). None of them may
#: change anything: every one is refused before it could.
ADMIN_REQUESTS: list[tuple[str, str, str, bytes, int, int]] = [
    ("cursor with an id past BIGINT", "GET",
     f"{_ORDERS}?cursor={cursor(json.dumps(['2026-01-01T00:00:00+00:00', 10**30]))}",
     b"", 400, 401),
    ("cursor nested 5,000 deep", "GET", f"{_ORDERS}?cursor={cursor('[' * 5000 + ']' * 5000)}",
     b"", 400, 401),
    ("cursor of 12 KB", "GET", f"{_ORDERS}?cursor={cursor('x' * 9000)}", b"", 400, 401),
    ("cursor not base64", "GET", f"{_ORDERS}?cursor=%25%25%25", b"", 400, 401),
    ("limit not a number", "GET", f"{_ORDERS}?limit=1e3", b"", 400, 401),
    ("unknown state", "GET", f"{_ORDERS}?state=forged", b"", 400, 401),
    ("date not ISO 8601", "GET", f"{_ORDERS}?created_after=yesterday", b"", 400, 401),
    ("search for 12 KB of text", "GET", f"{_ORDERS}?q={'x' * 12_000}", b"", 200, 401),
    ("delivery cursor negative", "GET", "/admin/api/deliveries?cursor=-1", b"", 400, 401),
    ("delivery status unknown", "GET", "/admin/api/deliveries?status=forged", b"", 400, 401),
    ("delivery id non-ASCII", "POST",
     f"/admin/api/deliveries/{quote(ARABIC_INDIC_1187)}/retry", b"", 404, 401),
    ("JSON body nested 100,000 deep", "POST", "/admin/api/resync", _DEEP, 400, 401),
    ("JSON body nested 100,000 deep (pause)", "POST", f"/admin/api/shops/{SHOP}/pause",
     _DEEP, 400, 401),
    ("shop of the wrong type", "POST", "/admin/api/resync",
     _js({"shop": 123, "state": "failed"}), 400, 401),
    ("order_ids of the wrong type", "POST", "/admin/api/resync",
     _js({"shop": SHOP, "order_ids": [True]}), 400, 401),
    ("order_ids past 2^64", "POST", "/admin/api/resync",
     _js({"shop": SHOP, "order_ids": [1, 2**64]}), 400, 401),
    ("10,001 order_ids", "POST", "/admin/api/resync",
     _js({"shop": SHOP, "order_ids": list(range(1, 10_002))}), 400, 401),
    ("reason of the wrong type", "POST", f"{_ORDERS}/{SHOP}/1/skip", _js({"reason": 5}),
     400, 401),
    ("invoice_id of the wrong type", "POST", f"{_ORDERS}/{SHOP}/1/acknowledge",
     _js({"invoice_id": ["x"]}), 400, 401),
    ("force of the wrong type", "POST", f"{_ORDERS}/{SHOP}/1/resync", _js({"force": "yes"}),
     400, 401),
    # the order id is checked while the URL is matched, before the token
    ("order id in Arabic-Indic digits", "GET", f"{_ORDERS}/{SHOP}/{quote(ARABIC_INDIC_1187)}",
     b"", 400, 400),
    ("order id of 2^63", "POST", f"{_ORDERS}/{SHOP}/{2**63}/resync", b"", 400, 400),
    ("order id of 5,000 digits", "GET", f"{_ORDERS}/{SHOP}/{'9' * 5000}", b"", 400, 400),
    ("shop non-ASCII", "GET", f"{_ORDERS}/{quote('магазин')}/1", b"", 404, 401),
]


def admin_plan(port: int, rounds: int) -> list[Planned]:
    """Every malformed admin request with the token and without; and wrong tokens."""
    plan = []
    json_type = {"Content-Type": "application/json"}
    for _ in range(rounds):
        for kind, method, path, body, with_token, without in ADMIN_REQUESTS:
            plan.append(_request("admin", f"{kind} (token)", port, method, path, {with_token},
                                 {**json_type, "Authorization": f"Bearer {ADMIN}"}, body))
            plan.append(_request("admin", f"{kind} (no token)", port, method, path, {without},
                                 json_type, body))
        for token in ("wrong", "x" * 8000, ADMIN + " " + ADMIN):
            plan.append(_request("admin", "wrong token", port, "GET", _ORDERS, {401},
                                 {"Authorization": f"Bearer {token}"}))
    return plan


# --- beside the stream ------------------------------------------------------------------------


class HeldRequest:
    """A forged delivery sent slowly: part of it goes out (the headers cut short, or half
    the body), the rest only after the burst. It must hold no server thread meanwhile."""

    def __init__(self, port: int, index: int) -> None:
        body = b'{"id":%d}' % index + b" " * 4000
        head = (f"POST {WEBHOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "X-WC-Webhook-Topic: order.created\r\nX-WC-Webhook-Signature: Zm9yZ2Vk\r\n"
                "\r\n").encode() + body
        cut = head.index(b"X-WC-Webhook-Topic") if index % 2 else len(head) - len(body) // 2
        self.rest = head[cut:]
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.sendall(head[:cut])

    def still_open(self) -> bool:
        """Nothing came back yet, neither an answer nor a close (a peek that never waits)."""
        self.sock.setblocking(False)
        try:
            self.sock.recv(1, socket.MSG_PEEK)  # an answer, or b"": closed
            return False
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            self.sock.settimeout(120)

    def finish(self) -> int:
        """Send the rest; the answer's status, or RESET."""
        try:
            self.sock.sendall(self.rest)
            response = http.client.HTTPResponse(self.sock)
            response.begin()
            return response.status
        except (OSError, http.client.HTTPException):
            return RESET
        finally:
            self.sock.close()


class Prober:
    """Asks /healthz and /readyz in turn, each on a new connection, until stopped; counts
    the answers, and those asked after the burst started and answered before it ended."""

    def __init__(self, port: int, burst: threading.Event, done: threading.Event) -> None:
        self.port, self.burst, self.done = port, burst, done
        self.answers: Counter[str] = Counter()
        self.in_burst = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prober", daemon=True)

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            asked_in_burst = self.burst.is_set() and not self.done.is_set()
            status = raw(self.port, "GET", ("/healthz", "/readyz")[index % 2])
            index += 1
            self.answers[str(status)] += 1
            if asked_in_burst and not self.done.is_set():
                self.in_burst += 1
            self._stop.wait(0.01)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
