"""``RestSimulatorState``: the shop behind the simulator (orders, API keys, how it is served,
queued faults, the request log), behind one lock; ``ApiKey``, ``RestFault`` and
``RestRequestRecord``, and the demo key pair."""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.woocommerce.samples import build_order

#: The key pair every simulator accepts unless told otherwise; shaped like real keys
#: (``ck_``/``cs_`` + 40 hex). Not a secret: it only opens this simulator.
DEMO_CONSUMER_KEY = "ck_4f1c2b7a9e0d3c5b8a6f1e2d4c7b9a0e3f5d8c1b"
DEMO_CONSUMER_SECRET = "cs_9b2e7d4a1c8f3e6b0d5a2c9e7f4b1d8a3e6c0f2b"  # noqa: S105 -- public

ORDERS_ROUTE = "/wc/v3/orders"
#: Core statuses (wc_get_order_statuses, without "wc-") plus the block checkout's draft.
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded",
                  "failed", "checkout-draft")
_REQUEST_LOG_SIZE = 1000
_DATE_FIELDS = ("date_created", "date_modified", "date_completed", "date_paid")


@dataclass
class ApiKey:
    """A REST API key as WooCommerce stores it (``woocommerce_api_keys``)."""

    consumer_key: str
    consumer_secret: str
    #: read | write | read_write
    permissions: str = "read_write"
    #: used OAuth nonces keyed by their timestamp, like the real ``nonces`` column
    nonces: dict[int, str] = field(default_factory=dict)
    #: whether the key's WordPress user may edit orders (``edit_shop_orders``): a shop
    #: manager or administrator may; a key made for a lesser user may not
    can_edit_orders: bool = True


@dataclass
class RestFault:
    """One queued fault (OUR test tool): the next ``times`` matching requests wait ``delay``
    seconds, then answer ``status`` -- or, with ``status=None``, answer normally (a slow
    shop). ``target`` is "list", "item", "notes" (an order's notes, read), "write" (any
    POST/PUT/PATCH), "note_write" (adding a note) or "any"; ``page`` narrows a list fault
    to a page. ``after``: the request is carried out first, then the fault is the answer (a
    write whose answer is lost)."""

    status: int | None = 500
    times: int = 1
    target: str = "list"
    page: int | None = None
    delay: float = 0.0
    applied: int = 0
    after: bool = False

    def __post_init__(self) -> None:
        if self.target not in ("list", "item", "notes", "write", "note_write", "any"):
            raise ValueError("target must be list, item, notes, write, note_write or any")
        if self.times < 1 or self.delay < 0:
            raise ValueError("times must be >= 1 and delay >= 0")

    def matches(self, kind: str, page: int) -> bool:
        if self.applied >= self.times:
            return False
        if self.target not in (kind, "any") and not (
                self.target == "write" and kind == "note_write"):
            return False
        return self.page is None or (kind == "list" and self.page == page)


@dataclass(frozen=True)
class RestRequestRecord:
    """One request the simulator answered."""

    method: str
    path: str
    #: the REST route ("/wc/v3/orders"), None for non-REST paths
    route: str | None
    #: query parameters as received (every value of repeated names)
    args: dict[str, list[str]]
    #: how the client tried to authenticate: "basic", "query", "oauth" or None
    auth: str | None
    consumer_key: str | None
    user_agent: str | None
    accept: str | None
    status: int

    @property
    def page(self) -> int:
        values = self.args.get("page") or ["1"]
        return int(values[-1]) if values[-1].isdigit() else 1


class RestSimulatorState:
    """The shop behind the simulator: orders, API keys, how it is served, faults, request log.
    Safe to change from a test while the server runs (one lock)."""

    def __init__(
        self,
        *,
        keys: Iterable[tuple[str, str] | ApiKey] = ((DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET),),
        ssl: bool = True,
        timezone: str = "Europe/Chisinau",
        pretty_permalinks: bool = True,
        home_url: str | None = None,
        extra_statuses: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        #: True: WordPress sees HTTPS (``is_ssl()``), so Basic auth is tried (a TLS proxy in
        #: front of this plain-HTTP server); False: plain HTTP, OAuth 1.0a only.
        self.ssl = ssl
        self.zone = ZoneInfo(timezone)
        self.pretty_permalinks = pretty_permalinks
        #: the shop's home URL for OAuth base strings; None = the URL the client used
        self.home_url = home_url.rstrip("/") if home_url else None
        self.statuses = (*ORDER_STATUSES, *extra_statuses)
        #: seconds every request waits before it is handled (OUR knob)
        self.latency = 0.0
        self.clock = clock
        self.lock = threading.RLock()
        self._orders: dict[int, dict[str, Any]] = {}
        self.keys: dict[str, ApiKey] = {}
        for key in keys:
            self.add_key(key if isinstance(key, ApiKey) else ApiKey(*key))
        self.faults: list[RestFault] = []
        self._log: deque[RestRequestRecord] = deque(maxlen=_REQUEST_LOG_SIZE)
        self._wake = threading.Event()
        self._notes: dict[int, list[dict[str, Any]]] = {}
        self._next_note_id = 1
        self._next_meta_id = 90001
        #: called with each order a REST update saved (``order.updated``; ``webhooks.py``)
        self.on_save: list[Callable[[dict[str, Any]], None]] = []

    # orders

    def put_order(self, order: Mapping[str, Any]) -> dict[str, Any]:
        """Add or replace an order (a copy); its local dates follow its ``*_gmt`` dates."""
        stored = copy.deepcopy(dict(order))
        for name in _DATE_FIELDS:
            gmt = parse_gmt(stored.get(f"{name}_gmt"))
            stored[name] = _fmt(gmt.astimezone(self.zone)) if gmt else None
        with self.lock:
            self._orders[int(stored["id"])] = stored
        return copy.deepcopy(stored)

    def put_orders(self, orders: Iterable[Mapping[str, Any]]) -> None:
        for order in orders:
            self.put_order(order)

    def seed_orders(self, count: int, *, first_id: int = 1001,
                    start: datetime = datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
                    step: timedelta = timedelta(minutes=7),
                    status: str = "processing") -> list[dict[str, Any]]:
        """``count`` realistic orders (``build_order``), ids from ``first_id``, each created
        and modified ``step`` after the previous one."""
        orders = []
        for index in range(count):
            created = start + step * index
            orders.append(self.put_order(build_order(
                order_id=first_id + index, status=status, date_created_gmt=created,
                date_modified_gmt=created + timedelta(seconds=30))))
        return orders

    def touch_order(self, order_id: int, when: datetime) -> dict[str, Any]:
        """Record a modification of an order at ``when`` (aware datetime)."""
        with self.lock:
            order = copy.deepcopy(self._orders[order_id])
        order["date_modified_gmt"] = _fmt(when.astimezone(UTC))
        return self.put_order(order)

    def remove_order(self, order_id: int) -> None:
        with self.lock:
            self._orders.pop(order_id, None)

    def order(self, order_id: int) -> dict[str, Any] | None:
        with self.lock:
            found = self._orders.get(order_id)
            return copy.deepcopy(found) if found else None

    def orders(self) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(order) for order in self._orders.values()]

    def save_order(self, order_id: int, meta: Sequence[Mapping[str, Any]],
                   status: str | None) -> dict[str, Any]:
        """An order saved through the REST API (``WC_Data::update_meta_data`` for each meta
        entry, then ``save()``): its date moves when anything changed, and
        ``order.updated`` fires either way."""
        with self.lock:
            order = copy.deepcopy(self._orders[order_id])
            before = copy.deepcopy(order)
            entries: list[dict[str, Any]] = list(order.get("meta_data") or [])
            for change in meta:
                entries = self._update_meta(entries, change)
            order["meta_data"] = entries
            if status is not None:
                order["status"] = status
            if order != before:
                order["date_modified_gmt"] = _fmt(datetime.fromtimestamp(self.clock(), UTC))
        saved = self.put_order(order)
        for listener in list(self.on_save):
            listener(copy.deepcopy(saved))
        return saved

    def _update_meta(self, entries: list[dict[str, Any]],
                     change: Mapping[str, Any]) -> list[dict[str, Any]]:
        key, value, meta_id = change.get("key"), change.get("value"), change.get("id")
        if meta_id:
            for entry in entries:
                if entry.get("id") == meta_id:
                    entry["value"] = value
            return entries
        matches = [entry for entry in entries if entry.get("key") == key]
        if matches:
            matches[0]["value"] = value
            return [entry for entry in entries if entry is matches[0] or entry not in matches]
        self._next_meta_id += 1
        return [*entries, {"id": self._next_meta_id, "key": key, "value": value}]

    def add_note(self, order_id: int, note: str, *, customer_note: bool = False,
                 by_user: bool = False) -> dict[str, Any]:
        created = datetime.fromtimestamp(self.clock(), UTC)
        with self.lock:
            note_id = self._next_note_id
            self._next_note_id += 1
            entry = {
                "id": note_id, "author": "system" if not by_user else "Shop manager",
                "date_created": _fmt(created.astimezone(self.zone)),
                "date_created_gmt": _fmt(created), "note": note,
                "customer_note": customer_note}
            self._notes.setdefault(order_id, []).insert(0, entry)
            return copy.deepcopy(entry)

    def notes(self, order_id: int) -> list[dict[str, Any]]:
        """An order's notes, newest first."""
        with self.lock:
            return copy.deepcopy(self._notes.get(order_id, []))

    # keys, faults, log

    def add_key(self, key: ApiKey) -> ApiKey:
        if key.permissions not in ("read", "write", "read_write"):
            raise ValueError("permissions must be read, write or read_write")
        with self.lock:
            self.keys[key.consumer_key] = key
        return key

    def add_fault(self, status: int | None = 500, *, times: int = 1, target: str = "list",
                  page: int | None = None, delay: float = 0.0,
                  after: bool = False) -> RestFault:
        fault = RestFault(status=status, times=times, target=target, page=page, delay=delay,
                          after=after)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, kind: str, page: int) -> RestFault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(kind, page):
                    fault.applied += 1
                    return fault
        return None

    def record(self, entry: RestRequestRecord) -> None:
        with self.lock:
            self._log.append(entry)

    @property
    def requests(self) -> list[RestRequestRecord]:
        with self.lock:
            return list(self._log)

    def list_requests(self) -> list[RestRequestRecord]:
        """The requests that reached the orders collection route."""
        return [entry for entry in self.requests if entry.route == ORDERS_ROUTE]

    def clear_requests(self) -> None:
        with self.lock:
            self._log.clear()

    def sleep(self, seconds: float) -> None:
        """A pause that ``wake_sleepers`` (server stop) cuts short."""
        if seconds > 0:
            self._wake.wait(seconds)

    def wake_sleepers(self) -> None:
        self._wake.set()


def parse_gmt(value: Any) -> datetime | None:
    """A stored ``*_gmt`` date (``YYYY-MM-DDTHH:MM:SS``) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _fmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")
