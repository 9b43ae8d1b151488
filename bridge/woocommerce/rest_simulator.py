"""An offline imitation of a shop's WooCommerce REST API (orders, v3), to test the backfill
client (``bridge.woocommerce.rest``) against real HTTP.

Run it with ``run_rest_simulator()`` (background thread, for tests) or
``python -m bridge.woocommerce.rest_simulator`` (a seeded shop in the foreground).

What follows WooCommerce / WordPress source (woocommerce/woocommerce trunk, WordPress 6.x):

- routes ``GET /wp-json/wc/v3/orders`` and ``/wp-json/wc/v3/orders/<id>``, also reachable as
  ``/?rest_route=/wc/v3/orders`` (WordPress routes plain permalinks that way); an unknown route
  or method answers 404 ``rest_no_route``;
- authentication exactly as ``WC_REST_Authentication`` (class-wc-rest-authentication.php):
  with ``ssl`` (WordPress's ``is_ssl()``) Basic auth or ``consumer_key``/``consumer_secret``
  query parameters are tried first; then OAuth 1.0a one-legged from the query string or an
  ``Authorization: OAuth`` header, with its error codes and messages, the base string built
  from the home URL with the scheme ``is_ssl()`` implies, HMAC-SHA1/SHA256, 15 minutes of
  timestamp skew, and nonces remembered per key *by timestamp* (as the real nonce store is).
  An unknown key over Basic, or Basic over plain HTTP, sets no error: the request goes on
  unauthenticated and the permission check answers 401 ``woocommerce_rest_cannot_view``;
- the key's read/write permission (``check_permissions``) before routing, parameter validation
  before the permission check (``WP_REST_Server::dispatch`` order);
- collection parameters and their validation errors (``WC_REST_CRUD_Controller`` and the
  orders controllers' ``get_collection_params``; messages of WordPress's
  ``rest_validate_value_from_schema``), answered as 400 ``rest_invalid_param`` with ``params``
  and ``details``;
- filtering: ``after``/``before`` on the created date, ``modified_after``/``modified_before``
  on the modified date, strict comparisons, against the GMT column with ``dates_are_gmt``
  and the shop-local column without it; a bound carrying an offset is first converted to
  shop-local time by ``WP_Date_Query::build_mysql_datetime`` (so ``...Z`` with
  ``dates_are_gmt=true`` is off by the shop's offset -- real behaviour);
- ordering with ``ID`` as tie-breaker for ``date``/``modified`` (``prepare_objects_query``),
  ``offset`` overriding ``page``, ``X-WP-Total``/``X-WP-TotalPages`` counted over the whole
  filtered set (also for a page past the end), and one ``Link`` header with only
  ``rel="prev"``/``rel="next"``, built from the request's own query parameters (including any
  ``oauth_*`` ones, as ``add_query_arg( $request->get_query_params() )`` does);
- single order: 404 ``woocommerce_rest_shop_order_invalid_id`` "Invalid ID."; without a user,
  401 ``woocommerce_rest_cannot_view`` "Sorry, you cannot view this resource." even for a
  missing id (``WC_REST_Orders_V2_Controller::get_item_permissions_check``);
- bodies encoded like ``wp_json_encode`` (``\\/`` and ``\\uXXXX`` escapes).

Our assumptions / simplifications:

- the key's WordPress user may read every order; ``search`` is accepted but not applied;
  ``title``/``slug`` ordering uses the post title WooCommerce gives orders
  (``Order &ndash; M d, Y @ h:i A``, shop-local creation time);
- ``status=any`` excludes ``trash`` and ``auto-draft`` (``WP_Query`` "any" skips statuses
  excluded from search);
- the local date fields of stored orders are recomputed from their ``*_gmt`` twins in the
  simulator's time zone, so the two columns always agree;
- links use the URL the client connected to (WordPress uses its configured home URL); query
  values in links are percent-encoded (``add_query_arg`` leaves them raw);
- a 500 fault answers with the JSON WordPress's fatal-error handler gives REST requests;
  502/503/504 faults answer with a proxy's HTML page. Faults and ``latency`` are OUR test
  tools (``X-Simulator-Fault`` header on fault answers).
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus
from zoneinfo import ZoneInfo

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bridge.woocommerce.samples import build_order
from bridge.woocommerce.sender import php_json_encode

__all__ = [
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "ORDER_STATUSES",
    "ApiKey",
    "RestFault",
    "RestRequestRecord",
    "RestSimulatorState",
    "RunningRestSimulator",
    "create_rest_simulator_app",
    "main",
    "run_rest_simulator",
]

#: The key pair every simulator accepts unless told otherwise; shaped like real keys
#: (``ck_``/``cs_`` + 40 hex). Not a secret: it only opens this simulator.
DEMO_CONSUMER_KEY = "ck_4f1c2b7a9e0d3c5b8a6f1e2d4c7b9a0e3f5d8c1b"
DEMO_CONSUMER_SECRET = "cs_9b2e7d4a1c8f3e6b0d5a2c9e7f4b1d8a3e6c0f2b"  # noqa: S105 -- public

ORDERS_ROUTE = "/wc/v3/orders"
#: Core statuses (wc_get_order_statuses, without "wc-") plus the block checkout's draft.
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded",
                  "failed", "checkout-draft")
_NOT_IN_ANY = ("trash", "auto-draft")
_ORDERBY = ("date", "id", "include", "title", "slug", "modified")
_OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                 "oauth_signature_method")
_OAUTH_HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_OAUTH_WINDOW = 15 * 60
#: rest_parse_date's pattern: what a ``format: date-time`` parameter must look like.
_REST_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$")
_ITEM_ROUTE = re.compile(r"^/wc/v3/orders/(\d+)$")
_OAUTH_HEADER = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')
_JSON_TYPE = "application/json; charset=UTF-8"
_REQUEST_LOG_SIZE = 1000
_FATAL_MESSAGE = (
    "<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/"
    "documentation/article/faq-troubleshooting/\">Learn more about troubleshooting "
    "WordPress.</a></p>")
_DATE_FIELDS = ("date_created", "date_modified", "date_completed", "date_paid")


# --- state ------------------------------------------------------------------------------------


@dataclass
class ApiKey:
    """A REST API key as WooCommerce stores it (``woocommerce_api_keys``)."""

    consumer_key: str
    consumer_secret: str
    #: read | write | read_write
    permissions: str = "read_write"
    #: used OAuth nonces keyed by their timestamp, like the real ``nonces`` column
    nonces: dict[int, str] = field(default_factory=dict)


@dataclass
class RestFault:
    """One queued fault (OUR test tool): the next ``times`` matching requests wait ``delay``
    seconds, then answer ``status`` -- or, with ``status=None``, answer normally (a slow
    shop). ``target`` is "list", "item" or "any"; ``page`` narrows a list fault to a page."""

    status: int | None = 500
    times: int = 1
    target: str = "list"
    page: int | None = None
    delay: float = 0.0
    applied: int = 0

    def __post_init__(self) -> None:
        if self.target not in ("list", "item", "any"):
            raise ValueError("target must be list, item or any")
        if self.times < 1 or self.delay < 0:
            raise ValueError("times must be >= 1 and delay >= 0")

    def matches(self, kind: str, page: int) -> bool:
        if self.applied >= self.times or self.target not in (kind, "any"):
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

    # orders

    def put_order(self, order: Mapping[str, Any]) -> dict[str, Any]:
        """Add or replace an order (a copy); its local dates follow its ``*_gmt`` dates."""
        stored = copy.deepcopy(dict(order))
        for name in _DATE_FIELDS:
            gmt = _parse_gmt(stored.get(f"{name}_gmt"))
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

    # keys, faults, log

    def add_key(self, key: ApiKey) -> ApiKey:
        if key.permissions not in ("read", "write", "read_write"):
            raise ValueError("permissions must be read, write or read_write")
        with self.lock:
            self.keys[key.consumer_key] = key
        return key

    def add_fault(self, status: int | None = 500, *, times: int = 1, target: str = "list",
                  page: int | None = None, delay: float = 0.0) -> RestFault:
        fault = RestFault(status=status, times=times, target=target, page=page, delay=delay)
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


# --- errors and small helpers --------------------------------------------------------------


class _WpError(Exception):
    """A ``WP_Error`` on its way to becoming a JSON response."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def response(self) -> Response:
        body = {"code": self.code, "message": self.message,
                "data": {"status": self.status, **self.data}}
        return _json_response(body, self.status)


def _json_response(body: Any, status: int = 200,
                   headers: Mapping[str, str] | None = None) -> Response:
    response = Response(php_json_encode(body), status=status, content_type=_JSON_TYPE)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Expose-Headers"] = "X-WP-Total, X-WP-TotalPages, Link"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _cannot_view(message: str) -> _WpError:
    # rest_authorization_required_code(): 401 when no user is logged in
    return _WpError("woocommerce_rest_cannot_view", message, 401)


def _auth_error(message: str) -> _WpError:
    return _WpError("woocommerce_rest_authentication_error", message, 401)


def _parse_gmt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _fmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _rawurlencode(text: str) -> str:
    """PHP ``rawurlencode`` (what ``wc_rest_urlencode_rfc3986`` amounts to)."""
    return quote(text, safe="")


def _php_query(raw_query: str) -> dict[str, Any]:
    """The query string as PHP's ``$_GET`` holds it: '+' is a space, the last of repeated
    names wins, ``name[]=``/``name[key]=`` build arrays (dicts here)."""
    result: dict[str, Any] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        match = re.match(r"^([^\[\]]+)\[([^\]]*)\]$", name)
        if not match:
            result[name] = value
            continue
        base, sub = match.groups()
        array = result.get(base)
        if not isinstance(array, dict):
            array = result[base] = {}
        array[sub if sub else sum(isinstance(k, int) for k in array)] = value
    return result


def _wp_list(values: Sequence[str]) -> str:
    """wp_sprintf's ``%l``: "a", "a and b", "a, b, and c"."""
    if len(values) <= 2:
        return " and ".join(values)
    return ", ".join(values[:-1]) + ", and " + values[-1]


# --- authentication (WC_REST_Authentication) ---------------------------------------------------


@dataclass
class _Auth:
    user: ApiKey | None = None
    error: _WpError | None = None


class _Authenticator:
    """One request's pass through ``WC_REST_Authentication::authenticate``."""

    def __init__(self, state: RestSimulatorState, query: dict[str, Any]) -> None:
        self.state = state
        self.query = query
        self.result = _Auth()

    def run(self) -> _Auth:
        if self.state.ssl:
            user = self._basic()
            if user is not None:
                self.result.user = user
                return self.result
        self._oauth()
        return self.result

    def _set_error(self, error: _WpError) -> None:
        # set_error() also forgets the user
        self.result.user = None
        self.result.error = error

    def _basic(self) -> ApiKey | None:
        key, secret = self.query.get("consumer_key"), self.query.get("consumer_secret")
        if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
            key, secret = _basic_credentials()
        if not key or not secret:
            return None
        found = self.state.keys.get(key.strip())
        if found is None:
            return None  # no error: the request goes on as a visitor
        if not hmac.compare_digest(found.consumer_secret.encode(), secret.encode()):
            self._set_error(_auth_error("Consumer secret is invalid."))
            return None
        return found

    def _oauth(self) -> None:
        params = self._oauth_parameters()
        if not params:
            return
        found = self.state.keys.get(str(params["oauth_consumer_key"]).strip())
        if found is None:
            self._set_error(_auth_error("Consumer key is invalid."))
            return
        error = self._check_signature(found, params) or self._check_nonce(found, params)
        if error is not None:
            self._set_error(error)
            return
        self.result.user = found

    def _oauth_parameters(self) -> dict[str, Any]:
        params = dict(self.query)
        header = (request.headers.get("Authorization") or "").strip()
        if header.startswith("OAuth "):
            for name, _, quoted, bare in _OAUTH_HEADER.findall(header):
                params[name] = unquote_plus(quoted or bare)
        missing = [name for name in _OAUTH_PARAMS if params.get(name) in (None, "", "0")]
        if len(missing) == len(_OAUTH_PARAMS):
            return {}  # not even trying OAuth
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            self._set_error(_WpError("woocommerce_rest_authentication_missing_parameter",
                                     f"Missing OAuth {noun} {', '.join(missing)}", 401))
            return {}
        return params

    def _check_signature(self, key: ApiKey, params: dict[str, Any]) -> _WpError | None:
        provided = unquote(str(params.pop("oauth_signature")).replace(" ", "+"))
        ordered = dict(sorted(params.items(), key=lambda item: str(item[0]).encode()))
        normalized = {_rawurlencode(str(k)): _encode_value(v) for k, v in ordered.items()}
        query = "%26".join(_join_with_equals_sign(normalized))
        base = f"{request.method.upper()}&{_rawurlencode(self._signed_url())}&{query}"
        method = normalized.get("oauth_signature_method")
        if method not in _OAUTH_HASHES:
            return _auth_error("Invalid signature - signature method is invalid.")
        digest = hmac.new(f"{key.consumer_secret}&".encode(), base.encode(),
                          _OAUTH_HASHES[method]).digest()
        expected = base64.b64encode(digest).decode("ascii")
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            return _auth_error("Invalid signature - provided signature does not match.")
        return None

    def _signed_url(self) -> str:
        """``get_home_url( null, $request_path, is_ssl() ? 'https' : 'http' )``: the raw
        request path minus the home path, appended to the home URL."""
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "/"
        path = raw_uri.split("?", 1)[0]
        path = path[1:] if path.startswith("/") else path
        home = self.state.home_url or request.host_url.rstrip("/")
        home = re.sub(r"^https?://", "https://" if self.state.ssl else "http://", home)
        return f"{home}/{path}" if path else home

    def _check_nonce(self, key: ApiKey, params: dict[str, Any]) -> _WpError | None:
        now = self.state.clock()
        try:
            timestamp = int(float(str(params["oauth_timestamp"])))
        except ValueError:
            return _auth_error("Invalid timestamp.")
        if timestamp < now - _OAUTH_WINDOW or timestamp > now + _OAUTH_WINDOW:
            return _auth_error("Invalid timestamp.")
        nonce = str(params["oauth_nonce"])
        with self.state.lock:
            if nonce in key.nonces.values():
                return _auth_error("Invalid nonce - nonce has already been used.")
            key.nonces[timestamp] = nonce  # keyed by timestamp: the real store does that too
            for old in [ts for ts in key.nonces if ts < now - _OAUTH_WINDOW]:
                del key.nonces[old]
        return None


def _basic_credentials() -> tuple[str, str]:
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        return "", ""
    return credentials.username or "", credentials.password or ""


def _claimed_credentials(query: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(how the client tried to authenticate, the consumer key it named), for the log --
    whether or not the shop looked at it."""
    header = request.headers.get("Authorization") or ""
    if "oauth_signature" in query or header.strip().startswith("OAuth "):
        match = re.search(r'oauth_consumer_key="?([^",]*)', header)
        key = query.get("oauth_consumer_key") or (unquote_plus(match.group(1)) if match else None)
        return "oauth", str(key) if key is not None else None
    if "consumer_key" in query:
        return "query", str(query["consumer_key"])
    key, _ = _basic_credentials()
    return ("basic", key) if key else (None, None)


def _encode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode_value(v) for k, v in value.items()}
    return _rawurlencode(str(value))


def _join_with_equals_sign(params: Mapping[Any, Any], prefix: str = "") -> list[str]:
    """WC_REST_Authentication::join_with_equals_sign: arrays become ``key%5Bsub%5D``."""
    joined: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else str(key)
        if isinstance(value, dict):
            joined.extend(_join_with_equals_sign(value, name))
        else:
            joined.append(_rawurlencode(f"{name}={value}"))
    return joined


# --- parameter validation (rest_validate_request_arg) ----------------------------------------


Check = Callable[[str, Any], "tuple[str, str] | None"]


def _integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    def check(name: str, value: Any) -> tuple[str, str] | None:
        number = _as_number(value)
        if number is None or number != int(number):
            return "rest_invalid_type", f"{name} is not of type integer."
        if minimum is not None and maximum is not None and not minimum <= number <= maximum:
            return ("rest_out_of_bounds",
                    f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)")
        if minimum is not None and number < minimum:
            return "rest_out_of_bounds", f"{name} must be greater than or equal to {minimum}"
        return None
    return check


def _as_number(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        number = float(value.strip()) if value.strip() else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _date_time(name: str, value: Any) -> tuple[str, str] | None:
    if not isinstance(value, str) or not _REST_DATE.match(value):
        return "rest_invalid_date", "Invalid date."
    return None


def _boolean(name: str, value: Any) -> tuple[str, str] | None:
    if not isinstance(value, str) or value.lower() not in ("true", "false", "1", "0"):
        return "rest_invalid_type", f"{name} is not of type boolean."
    return None


def _enum(options: Sequence[str]) -> Check:
    def check(name: str, value: Any) -> tuple[str, str] | None:
        if isinstance(value, str) and value in options:
            return None
        if len(options) == 1:
            return "rest_not_in_enum", f"{name} is not {options[0]}."
        return "rest_not_in_enum", f"{name} is not one of {_wp_list(list(options))}."
    return check


def _status_list(options: Sequence[str]) -> Check:
    item_check = _enum(options)

    def check(name: str, value: Any) -> tuple[str, str] | None:
        for index, item in enumerate(_wp_parse_list(value)):
            problem = item_check(f"{name}[{index}]", item)
            if problem:
                return problem
        return None
    return check


def _wp_parse_list(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(item) for item in value.values()]
    return [part for part in re.split(r"[\s,]+", str(value)) if part]


def _collection_checks(state: RestSimulatorState) -> dict[str, Check]:
    """The validated collection parameters, in WooCommerce's order."""
    return {
        "context": _enum(("view", "edit")),
        "page": _integer(1),
        "per_page": _integer(1, 100),
        "after": _date_time,
        "before": _date_time,
        "modified_after": _date_time,
        "modified_before": _date_time,
        "dates_are_gmt": _boolean,
        "offset": _integer(),
        "order": _enum(("asc", "desc")),
        "orderby": _enum(_ORDERBY),
        "status": _status_list(("any", "trash", "auto-draft", *state.statuses)),
        "customer": _integer(),
        "product": _integer(),
        "dp": _integer(),
    }


def _validate(query: Mapping[str, Any], checks: Mapping[str, Check]) -> None:
    problems = {}
    for name, check in checks.items():
        if name in query:
            problem = check(name, query[name])
            if problem:
                problems[name] = problem
    if problems:
        raise _WpError(
            "rest_invalid_param", f"Invalid parameter(s): {', '.join(problems)}", 400,
            params={name: message for name, (_, message) in problems.items()},
            details={name: {"code": code, "message": message, "data": None}
                     for name, (code, message) in problems.items()})


# --- listing --------------------------------------------------------------------------------


@dataclass
class _ListQuery:
    """The sanitized collection parameters."""

    page: int = 1
    per_page: int = 10
    offset: int | None = None
    order: str = "desc"
    orderby: str = "date"
    statuses: list[str] = field(default_factory=lambda: ["any"])
    include: list[int] = field(default_factory=list)
    exclude: list[int] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    parent_exclude: list[int] = field(default_factory=list)
    customer: int | None = None
    product: int | None = None
    dates_are_gmt: bool = False
    dates: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> _ListQuery:
        ids = {name: _id_list(query.get(name))
               for name in ("include", "exclude", "parent", "parent_exclude")}
        return cls(
            page=_absint(query.get("page", "1")),
            per_page=_absint(query.get("per_page", "10")),
            offset=_absint(query["offset"]) if "offset" in query else None,
            order=str(query.get("order", "desc")),
            orderby=str(query.get("orderby", "date")),
            statuses=_wp_parse_list(query.get("status", "any")) or ["any"],
            customer=_absint(query["customer"]) if "customer" in query else None,
            product=_absint(query["product"]) if "product" in query else None,
            # rest_sanitize_boolean: only "false", "0" and "" are false
            dates_are_gmt=str(query.get("dates_are_gmt", "false")).lower()
            not in ("false", "0", ""),
            dates={name: str(query[name]) for name in
                   ("after", "before", "modified_after", "modified_before") if name in query},
            **ids,
        )


def _absint(value: Any) -> int:
    number = _as_number(value)
    return abs(int(number)) if number is not None else 0


def _id_list(value: Any) -> list[int]:
    if value is None:
        return []
    return list(dict.fromkeys(_absint(part) for part in _wp_parse_list(value)))


def _date_bound(text: str, zone: ZoneInfo) -> datetime:
    """WP_Date_Query::build_mysql_datetime for a full date-time string: a value with an
    offset is converted to the shop's time zone; a bare one is taken as it is."""
    value = datetime.fromisoformat(text.replace("t", "T"))
    if value.tzinfo is not None:
        value = value.astimezone(zone).replace(tzinfo=None)
    return value.replace(microsecond=0)


class _Lister:
    """``GET /wc/v3/orders`` over the state's orders."""

    def __init__(self, state: RestSimulatorState, query: _ListQuery) -> None:
        self.state = state
        self.query = query

    def select(self) -> list[dict[str, Any]]:
        orders = [order for order in self.state.orders() if self._wanted(order)]
        orders.sort(key=self._sort_key, reverse=self.query.order == "desc")
        return orders

    def _wanted(self, order: dict[str, Any]) -> bool:
        q = self.query
        status = order.get("status")
        if "any" in q.statuses:
            if status in _NOT_IN_ANY:
                return False
        elif status not in q.statuses:
            return False
        order_id = int(order["id"])
        if (q.include and order_id not in q.include) or order_id in q.exclude:
            return False
        parent = int(order.get("parent_id") or 0)
        if (q.parent and parent not in q.parent) or parent in q.parent_exclude:
            return False
        if q.customer is not None and int(order.get("customer_id") or 0) != q.customer:
            return False
        if q.product is not None and not any(
                q.product in (item.get("product_id"), item.get("variation_id"))
                for item in order.get("line_items", [])):
            return False
        return self._in_dates(order)

    def _in_dates(self, order: dict[str, Any]) -> bool:
        for name, text in self.query.dates.items():
            column = "date_created" if name in ("after", "before") else "date_modified"
            value = self._column(order, column)
            bound = _date_bound(text, self.state.zone)
            if value is None:
                return False
            if name.endswith("after") and not value > bound:
                return False
            if name.endswith("before") and not value < bound:
                return False
        return True

    def _column(self, order: dict[str, Any], column: str) -> datetime | None:
        """post_date(_gmt) / post_modified(_gmt) as naive wall times."""
        gmt = _parse_gmt(order.get(f"{column}_gmt"))
        if gmt is None:
            return None
        chosen = gmt if self.query.dates_are_gmt else gmt.astimezone(self.state.zone)
        return chosen.replace(tzinfo=None)

    def _sort_key(self, order: dict[str, Any]) -> tuple[Any, ...]:
        order_id = int(order["id"])
        orderby = self.query.orderby
        if orderby == "modified":
            return (order.get("date_modified_gmt") or "", order_id)
        if orderby == "include" and self.query.include:
            return (self.query.include.index(order_id), order_id)
        if orderby in ("title", "slug"):
            return (self._title(order), order_id)
        if orderby == "date":
            return (order.get("date_created_gmt") or "", order_id)
        return (order_id,)

    def _title(self, order: dict[str, Any]) -> str:
        created = _parse_gmt(order.get("date_created_gmt")) or datetime.fromtimestamp(0, UTC)
        return "Order &ndash; " + created.astimezone(self.state.zone).strftime(
            "%b %d, %Y @ %I:%M %p")

    def page(self) -> tuple[list[dict[str, Any]], int, int]:
        """(orders of the requested page, X-WP-Total, X-WP-TotalPages)."""
        selected = self.select()
        per_page = self.query.per_page
        start = (self.query.offset if self.query.offset is not None
                 else (self.query.page - 1) * per_page)
        total = len(selected)
        return selected[start:start + per_page], total, math.ceil(total / per_page)


def _link_header(base: str, query: Mapping[str, Any], page: int, pages: int) -> str | None:
    """WC_REST_CRUD_Controller::get_items: prev (clamped to the last page) and next only."""
    links = []
    if page > 1:
        links.append(f'<{_page_url(base, query, min(page - 1, pages))}>; rel="prev"')
    if pages > page:
        links.append(f'<{_page_url(base, query, page + 1)}>; rel="next"')
    return ", ".join(links) or None


def _page_url(base: str, query: Mapping[str, Any], page: int) -> str:
    params: dict[str, Any] = {**query, "page": str(page)}
    params.pop("rest_route", None)  # already in the base URL without pretty permalinks
    # the controller puts the parsed status array back into the request: status[0]=any
    params["status"] = dict(enumerate(_wp_parse_list(query.get("status", "any")) or ["any"]))
    parts = []
    for name, value in params.items():
        if isinstance(value, dict):
            parts.extend(f"{_rawurlencode(name)}%5B{_rawurlencode(str(k))}%5D="
                         f"{_rawurlencode(str(v))}" for k, v in value.items())
        else:
            parts.append(f"{_rawurlencode(name)}={_rawurlencode(str(value))}")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{'&'.join(parts)}"


# --- the app --------------------------------------------------------------------------------


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class _Request:
    """One request through WordPress's REST pipeline."""

    def __init__(self, state: RestSimulatorState, path: str) -> None:
        self.state = state
        self.path = path
        self.query = _php_query(request.query_string.decode("utf-8", "replace"))
        self.route = self._route()
        self.auth = _Auth()

    def _route(self) -> str | None:
        if self.path == "wp-json" or self.path.startswith("wp-json/"):
            if not self.state.pretty_permalinks:
                return None
            return "/" + self.path[len("wp-json"):].strip("/")
        rest_route = self.query.get("rest_route")
        if self.path in ("", "index.php") and isinstance(rest_route, str):
            return "/" + rest_route.strip("/")
        return None

    def handle(self) -> Response:
        if self.route is None:
            return Response("<!doctype html><title>Page not found</title>", status=404,
                            content_type="text/html; charset=UTF-8")
        self.state.sleep(self.state.latency)
        fault = self._fault()
        if fault is not None:
            return fault
        try:
            return self._dispatch()
        except _WpError as error:
            return error.response()

    def _kind(self) -> str:
        if self.route == ORDERS_ROUTE:
            return "list"
        return "item" if self.route and _ITEM_ROUTE.match(self.route) else "other"

    def _fault(self) -> Response | None:
        page = _absint(self.query.get("page", "1")) or 1
        fault = self.state.take_fault(self._kind(), page)
        if fault is None:
            return None
        self.state.sleep(fault.delay)
        if fault.status is None:
            return None
        response = _fault_response(fault.status)
        response.headers["X-Simulator-Fault"] = str(fault.status)
        return response

    def _dispatch(self) -> Response:
        if self.route is not None and self.route.lstrip("/").startswith(("wc/", "wc-")):
            self.auth = _Authenticator(self.state, self.query).run()
        if self.auth.error is not None:
            # no WWW-Authenticate: after Basic fails WooCommerce always goes on to OAuth, so
            # send_unauthorized_headers() never sees auth_method == 'basic_auth'
            raise self.auth.error
        self._check_key_permissions()
        kind = self._kind()
        if request.method not in ("GET", "HEAD") or kind == "other":
            raise _WpError("rest_no_route",
                           "No route was found matching the URL and request method.", 404)
        return self._list() if kind == "list" else self._item()

    def _check_key_permissions(self) -> None:
        user = self.auth.user
        if user is not None and request.method in ("GET", "HEAD") and \
                user.permissions not in ("read", "read_write"):
            raise _auth_error("The API key provided does not have read permissions.")

    def _list(self) -> Response:
        _validate(self.query, _collection_checks(self.state))
        if self.auth.user is None:
            raise _cannot_view("Sorry, you cannot list resources.")
        query = _ListQuery.from_query(self.query)
        orders, total, pages = _Lister(self.state, query).page()
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages),
                   "Allow": "GET, POST"}
        link = _link_header(self._collection_url(), self.query, query.page, pages)
        if link:
            headers["Link"] = link
        return _json_response(orders, headers=headers)

    def _item(self) -> Response:
        _validate(self.query, {"context": _enum(("view", "edit"))})
        match = _ITEM_ROUTE.match(self.route or "")
        order = self.state.order(int(match.group(1))) if match else None
        if self.auth.user is None:
            raise _cannot_view("Sorry, you cannot view this resource.")
        if order is None:
            raise _WpError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return _json_response(order, headers={"Allow": "GET, POST, PUT, PATCH, DELETE"})

    def _collection_url(self) -> str:
        """rest_url('/wc/v3/orders'): the pretty form, or index.php?rest_route= without."""
        home = request.host_url.rstrip("/")
        if self.state.pretty_permalinks:
            return f"{home}/wp-json{ORDERS_ROUTE}"
        return f"{home}/index.php?rest_route={_rawurlencode(ORDERS_ROUTE)}"

    def record(self, status: int) -> None:
        args = {name: request.args.getlist(name) for name in request.args}
        auth, consumer_key = _claimed_credentials(self.query)
        self.state.record(RestRequestRecord(
            method=request.method, path=request.path, route=self.route, args=args,
            auth=auth, consumer_key=consumer_key,
            user_agent=request.headers.get("User-Agent"), accept=request.headers.get("Accept"),
            status=status))


def _fault_response(status: int) -> Response:
    if status == 500:
        # _json_wp_die_handler's answer to a fatal error during a REST request
        body = {"code": "internal_server_error", "message": _FATAL_MESSAGE,
                "data": {"status": 500}, "additional_errors": []}
        return _json_response(body, 500)
    if status >= 500:
        reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}
        title = f"{status} {reason.get(status, 'Error')}"
        html = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>"
                f"{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
        return Response(html, status=status, content_type="text/html")
    return _WpError("simulated_fault", f"Simulated {status} answer.", status).response()


def create_rest_simulator_app(state: RestSimulatorState) -> Flask:
    """The Flask app serving ``state``."""
    app = Flask(__name__)

    @app.route("/", defaults={"path": ""}, methods=_METHODS)
    @app.route("/<path:path>", methods=_METHODS)
    def handle(path: str) -> Response:
        current = _Request(state, path)
        response = current.handle()
        current.record(response.status_code)
        return response

    return app


# --- running it -----------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class RunningRestSimulator:
    """A simulator served by werkzeug's threaded server on a background thread."""

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread,
                 state: RestSimulatorState, app: Flask) -> None:
        self.server = server
        self.thread = thread
        self.state = state
        self.app = app
        host = f"[{server.host}]" if ":" in server.host else server.host
        self.port: int = server.port
        #: the shop's root URL (what ``WooRestSettings.url`` takes)
        self.url = f"http://{host}:{self.port}"

    @property
    def orders_url(self) -> str:
        return f"{self.url}/wp-json{ORDERS_ROUTE}"

    def stop(self) -> None:
        """Stop serving; requests still sleeping (latency, delay faults) are woken up."""
        self.state.wake_sleepers()
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()

    def __enter__(self) -> RunningRestSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_rest_simulator(port: int = 0, state: RestSimulatorState | None = None, *,
                       host: str = "127.0.0.1") -> RunningRestSimulator:
    """Start serving in a background thread; port 0 picks a free port (see ``.url``)."""
    state = state if state is not None else RestSimulatorState()
    state._wake.clear()  # a state may outlive a stopped simulator
    app = create_rest_simulator_app(state)
    try:
        server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    except SystemExit as exc:  # werkzeug exits the process when it cannot bind
        raise OSError(f"cannot listen on {host}:{port}") from exc
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              name=f"woo-rest-simulator-{server.port}", daemon=True)
    thread.start()
    return RunningRestSimulator(server, thread, state, app)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a seeded shop in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--orders", type=int, default=250, help="orders to seed")
    parser.add_argument("--plain-http", action="store_true",
                        help="behave like a shop without HTTPS: OAuth 1.0a only")
    args = parser.parse_args(argv)
    state = RestSimulatorState(ssl=not args.plain_http)
    state.seed_orders(args.orders)
    running = run_rest_simulator(args.port, state, host=args.host)
    print(f"WooCommerce REST simulator on {running.url} "
          f"(key {DEMO_CONSUMER_KEY}, secret {DEMO_CONSUMER_SECRET})", flush=True)
    try:
        while running.thread.is_alive():
            running.thread.join(1)
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
