"""Pull orders from a shop's WooCommerce REST API (v3): the backfill and the periodic
reconciliation that recover orders whose webhook never arrived.

WooCommerce never retries a failed webhook delivery and disables a webhook after repeated
failures (docs/woocommerce.md section 1.5), so webhooks alone lose orders. This client
walks ``GET /wp-json/wc/v3/orders`` by modification date; the caller feeds what it finds into
the same intake as the webhooks.

Authentication, as ``WC_REST_Authentication`` (class-wc-rest-authentication.php) checks it:

- HTTPS URL: HTTP Basic with consumer key and secret. WooCommerce only looks at Basic when
  WordPress's ``is_ssl()`` is true, so a shop behind a TLS proxy WordPress does not detect
  ignores Basic and answers 401 ``woocommerce_rest_cannot_view``;
- plain-HTTP URL (loopback, or explicitly allowed in the configuration): OAuth 1.0a
  "one-legged", HMAC-SHA256, parameters in the query string. The signed URL must be the shop's
  home URL plus the route (``get_home_url()`` in ``check_oauth_signature``), and the timestamp
  must be within 15 minutes of the shop's clock; each nonce is single-use.

``auth="basic"`` / ``"oauth"`` overrides the choice by scheme (Basic over plain HTTP is only
allowed to loopback hosts: a TLS proxy on the same machine, or tests).

Secrets: the consumer secret is never logged nor put in an error message; it only ever travels
in the ``Authorization`` header (Basic) or as the HMAC key (OAuth).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import requests

import bridge
from bridge.config.fields import is_loopback_url
from bridge.config.model import WooRestSettings
from bridge.errors import (
    WooRestAuthError,
    WooRestError,
    WooRestNotFound,
    WooRestTransientError,
)

__all__ = [
    "AUTH_MODES",
    "DEFAULT_USER_AGENT",
    "MAX_PER_PAGE",
    "ORDERS_PATH",
    "OrdersPage",
    "WooRestAuthError",
    "WooRestClient",
    "WooRestError",
    "WooRestNotFound",
    "WooRestTransientError",
    "oauth_sign",
    "oauth_signature_base",
    "rest_datetime",
]

log = logging.getLogger(__name__)

ORDERS_PATH = "/wp-json/wc/v3/orders"
#: ``per_page`` maximum of every WooCommerce collection (WC_REST_CRUD_Controller params).
MAX_PER_PAGE = 100
DEFAULT_USER_AGENT = f"invoice-bridge/{bridge.__version__} (+https://github.com/invoice-bridge)"
AUTH_MODES = ("auto", "basic", "oauth")
OAUTH_SIGNATURE_METHOD = "HMAC-SHA256"
_OAUTH_HASHES = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}
_REST_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


#: substrings of WooCommerce's auth messages -> what the operator should check.
_AUTH_HINTS = (
    ("Consumer key is invalid", "check consumer_key"),
    ("Consumer secret is invalid", "check consumer_secret"),
    ("provided signature does not match",
     "check consumer_secret, and that the configured url is exactly the shop's home URL "
     "(scheme, host, port, path): a shop that believes it is served over https rejects "
     "signatures made for http"),
    ("Invalid timestamp", "check this machine's clock: WooCommerce allows 15 minutes of skew"),
    ("nonce has already been used", "a nonce was reused; retry"),
    ("does not have read permissions", "give the key Read or Read/Write permissions"),
    ("does not have write permissions",
     "write-back needs a Read/Write key: edit the key's permissions in WooCommerce"),
    ("not allowed to", "the key's WordPress user may not edit orders (give it a shop "
                       "manager's or administrator's role)"),
)
_CANNOT_VIEW_HINT = {
    "basic": "the key was not accepted over Basic auth: check that it exists; a shop whose "
             "WordPress does not see HTTPS (e.g. behind a TLS proxy) ignores Basic auth",
    "oauth": "the key's WordPress user may not read orders",
}


# --- OAuth 1.0a as WooCommerce verifies it ---------------------------------------------------


def rfc3986(text: str) -> str:
    """PHP's ``rawurlencode``: everything but ``A-Z a-z 0-9 - _ . ~`` percent-encoded (UTF-8).
    WooCommerce's ``wc_rest_urlencode_rfc3986`` is this (its ``+``/``%7E`` fix-ups never fire
    on rawurlencode output)."""
    return quote(text, safe="")


def oauth_signature_base(method: str, url: str, params: Mapping[str, str]) -> str:
    """The string WooCommerce signs (``check_oauth_signature``): ``METHOD&rawurlencode(url)&``
    then every parameter but ``oauth_signature``, sorted by name (``uksort`` with ``strcmp``:
    byte order), as ``rawurlencode(rawurlencode(k) "=" rawurlencode(v))`` joined with ``%26``."""
    pairs = sorted(((k, v) for k, v in params.items() if k != "oauth_signature"),
                   key=lambda pair: pair[0].encode())
    joined = "%26".join(rfc3986(f"{rfc3986(k)}={rfc3986(v)}") for k, v in pairs)
    return f"{method.upper()}&{rfc3986(url)}&{joined}"


def oauth_sign(method: str, url: str, params: Mapping[str, str], consumer_key: str,
               consumer_secret: str, *, timestamp: int, nonce: str,
               signature_method: str = OAUTH_SIGNATURE_METHOD) -> dict[str, str]:
    """``params`` plus the five ``oauth_*`` parameters of a one-legged OAuth 1.0a request.

    ``url`` is the shop's home URL plus the route, without query string. The HMAC key is the
    consumer secret followed by ``&`` (no token secret); the digest is base64-encoded.
    """
    signed = dict(params)
    signed.update({
        "oauth_consumer_key": consumer_key,
        "oauth_timestamp": str(timestamp),
        "oauth_nonce": nonce,
        "oauth_signature_method": signature_method,
    })
    base = oauth_signature_base(method, url, signed)
    digest = hmac.new(f"{consumer_secret}&".encode(), base.encode(),
                      _OAUTH_HASHES[signature_method]).digest()
    signed["oauth_signature"] = base64.b64encode(digest).decode("ascii")
    return signed


def _new_nonce() -> str:
    # WooCommerce documents "a unique 32 alphanumeric string"
    return secrets.token_hex(16)


def rest_datetime(value: datetime, *, round_up: bool = False) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in UTC, for ``dates_are_gmt=true`` filters.

    No offset on purpose: WordPress's ``WP_Date_Query`` converts a date that carries an
    offset (``Z``, ``+00:00``) into the shop's time zone before comparing it, even with
    ``dates_are_gmt=true`` -- a bare date is compared as given. WooCommerce keeps whole
    seconds; ``round_up`` moves a fractional second up (for an exclusive upper bound).
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone; pass an aware datetime")
    utc = value.astimezone(UTC)
    if round_up and utc.microsecond:
        utc += timedelta(microseconds=1_000_000 - utc.microsecond)
    return utc.strftime(_REST_DATE_FORMAT)


# --- the client ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrdersPage:
    """One page of ``GET /orders``, with the totals the shop reported for it."""

    orders: list[dict[str, Any]]
    page: int
    total_pages: int
    total: int


class WooRestClient:
    """A client for one shop's WooCommerce REST API: reads orders (backfill, reconcile) and,
    for write-back, adds notes and sets meta.

    Not thread-safe (one ``requests.Session``); use one client per thread.
    """

    def __init__(
        self,
        settings: WooRestSettings,
        *,
        session: requests.Session | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        auth: str = "auto",
        retries: int = 3,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = _new_nonce,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(settings.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {settings.url!r}")
        self.base_url = settings.url.rstrip("/")
        self.auth_mode = _auth_mode(auth, parts.scheme, settings.url)
        self.timeout = settings.timeout
        self.user_agent = user_agent
        self.retries = retries
        self.backoff = backoff
        self.session = session if session is not None else requests.Session()
        self._key = settings.consumer_key
        self._secret = settings.consumer_secret
        self._clock = clock
        self._nonce = nonce
        self._sleep = sleep

    def __repr__(self) -> str:  # never the secret
        return f"WooRestClient({self.base_url!r}, auth={self.auth_mode!r})"

    def iter_orders(self, modified_after: datetime, *, modified_before: datetime | None = None,
                    per_page: int = MAX_PER_PAGE) -> Iterator[OrdersPage]:
        """Every order modified after ``modified_after`` (and before ``modified_before``),
        oldest modification first, one page per step, any status (trash excluded).

        Caveats the caller must handle:

        - WooCommerce pages with LIMIT/OFFSET over a list ordered by ``modified``. An order
          modified while we walk moves to the end of the list: it can show up twice (seen
          early, then again with its new ``date_modified_gmt``), and every order behind its
          old place moves one place forward, so one order can fall between two pages and be
          skipped by this walk (an order trashed meanwhile does the same). New orders only
          append and cause no skips. So: de-duplicate on (``id``, ``date_modified_gmt``);
          treat a walk that met an order modified after the walk began, or whose ``total``
          changed between pages, as possibly incomplete; and let walks overlap -- look back
          over a window (``reconcile_window``) instead of resuming exactly after the last
          order seen, so the next walk finds what this one skipped.
        - ``modified_after`` is exclusive and WooCommerce keeps whole seconds: an order
          modified in the same second as the bound is left out. Another reason to overlap.
        - ``dates_are_gmt=true`` is always sent: without it WooCommerce reads the bounds as
          the shop's local time (its default), off by the shop's UTC offset.

        ``X-WP-TotalPages`` is read again on every page because it changes while we walk
        (orders created or modified meanwhile join the end of the list); a shop that sends no
        totals (a proxy stripped them) is walked until a short page.
        """
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}, got {per_page}")
        params = {
            "modified_after": rest_datetime(modified_after),
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": str(per_page),
            "status": "any",
        }
        if modified_before is not None:
            params["modified_before"] = rest_datetime(modified_before, round_up=True)
        page = 1
        while True:
            response = self._get(ORDERS_PATH, {**params, "page": str(page)})
            orders = _json_list(response, ORDERS_PATH)
            total, total_pages = _totals(response, page, len(orders), per_page)
            yield OrdersPage(orders=orders, page=page, total_pages=total_pages, total=total)
            # an empty page ends the walk even if the totals disagree: never loop forever
            if not orders or page >= total_pages:
                return
            page += 1

    def get_order(self, order_id: int) -> dict[str, Any]:
        """One order as the REST API shows it (``GET /wp-json/wc/v3/orders/<id>``); raises
        ``WooRestNotFound`` (``woocommerce_rest_shop_order_invalid_id``) if there is none."""
        path = f"{ORDERS_PATH}/{int(order_id)}"
        body = _json_body(self._get(path, {}), path)
        if not isinstance(body, dict):
            raise WooRestError(f"WooCommerce answered GET {path} with a JSON "
                               f"{type(body).__name__}, not an order object")
        return body

    # --- HTTP ---------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str]) -> requests.Response:
        """GET with retries on 5xx, timeouts and lost connections (never on 4xx, never on
        429: the caller's next run retries those)."""
        attempt = 1
        while True:
            try:
                return self._get_once(path, params)
            except WooRestTransientError as exc:
                if attempt > self.retries or exc.status == 429:
                    raise
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning("WooCommerce GET %s failed (%s); retry %d/%d in %.1fs",
                            path, exc, attempt, self.retries, delay)
                self._sleep(delay)
                attempt += 1

    def _get_once(self, path: str, params: Mapping[str, str]) -> requests.Response:
        return self._call_once("GET", path, params)

    def _call_once(self, method: str, path: str, params: Mapping[str, str],
                   body: Any = None) -> requests.Response:
        url = self.base_url + path
        query: Mapping[str, str] = params
        auth: tuple[str, str] | None = None
        if self.auth_mode == "basic":
            auth = (self._key, self._secret)
        else:
            # a fresh timestamp and nonce per attempt: WooCommerce rejects a reused nonce.
            # A JSON body is not part of the OAuth 1.0a base string (only form bodies are).
            query = oauth_sign(method, url, params, self._key, self._secret,
                               timestamp=int(self._clock()), nonce=self._nonce())
        target = f"{url}?{_encode_query(query)}" if query else url
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        try:
            response = self.session.request(method, target, headers=headers, auth=auth,
                                            json=body, timeout=self.timeout,
                                            allow_redirects=False)
        except requests.Timeout as exc:
            raise WooRestTransientError(
                f"WooCommerce at {self.base_url} did not answer {method} {path} within "
                f"{self.timeout:g}s") from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise WooRestTransientError(
                f"cannot reach WooCommerce at {self.base_url} ({method} {path}): "
                f"{_redact(str(exc))}") from exc
        if response.status_code >= 300:
            raise self._error(response, path, method)
        return response

    # --- writing (bridge/writeback): one request each, never retried here ---------------
    # A write whose answer is lost may have happened; the caller reads the order back
    # before it writes again, so these never retry on their own.

    def update_order_meta(self, order_id: int, meta: Mapping[str, str]) -> dict[str, Any]:
        """``PUT /orders/<id>`` with ``meta_data``: WooCommerce replaces the value of each
        key it already has (``WC_Data::update_meta_data``) and adds the others."""
        path = f"{ORDERS_PATH}/{int(order_id)}"
        body = {"meta_data": [{"key": key, "value": value} for key, value in meta.items()]}
        return _json_object(self._call_once("PUT", path, {}, body), path)

    def add_order_note(self, order_id: int, note: str, *,
                       customer_note: bool = False) -> dict[str, Any]:
        """``POST /orders/<id>/notes``; WooCommerce gives notes no client key, so a note
        sent twice is two notes -- the caller checks ``order_notes`` after a lost answer."""
        path = f"{ORDERS_PATH}/{int(order_id)}/notes"
        body = {"note": note, "customer_note": customer_note}
        return _json_object(self._call_once("POST", path, {}, body), path)

    def order_notes(self, order_id: int) -> list[dict[str, Any]]:
        """Every note of an order, newest first (``GET /orders/<id>/notes``: not paged)."""
        path = f"{ORDERS_PATH}/{int(order_id)}/notes"
        return _json_list(self._call_once("GET", path, {}), path)

    def can_write_orders(self) -> bool:
        """Whether the key may change orders, changing nothing: ``PUT /orders/0`` passes
        the key's write-permission check (``WC_REST_Authentication::check_permissions``,
        before any route runs) and then finds no order 0 (400 ``..._invalid_id``). A
        read-only key is refused first (401). Raises on anything else."""
        path = f"{ORDERS_PATH}/0"
        try:
            self._call_once("PUT", path, {}, {})
        except WooRestAuthError:
            return False
        except WooRestError as exc:
            if exc.status in (400, 404) and (exc.code or "").endswith("invalid_id"):
                return True
            raise
        return True  # an order 0 that took an empty update: nothing changed either

    def _error(self, response: requests.Response, path: str,
               method: str = "GET") -> WooRestError:
        status = response.status_code
        if status < 400:
            # requests would drop our credentials on a cross-host redirect: say where to go
            location = _redact(response.headers.get("Location", "?"))
            return WooRestError(
                f"WooCommerce at {self.base_url} redirected {method} {path} ({status}) to "
                f"{location}; set the shop url to the address it redirects to", status=status)
        code, message = _error_body(response)
        label = f"{status} {code}" if code else str(status)
        if status in (401, 403):
            hint = _auth_hint(code, message, self.auth_mode)
            return WooRestAuthError(
                f"WooCommerce refused the REST key ({label}): {message}"
                + (f" -- {hint}" if hint else ""), status=status, code=code)
        text = f"WooCommerce at {self.base_url} answered {method} {path} with {label}: {message}"
        if status >= 500 or status == 429:
            return WooRestTransientError(text, status=status, code=code)
        if status == 404:
            return WooRestNotFound(text, status=status, code=code)
        return WooRestError(text, status=status, code=code)


# --- helpers ---------------------------------------------------------------------------------


def _auth_mode(auth: str, scheme: str, url: str) -> str:
    if auth not in AUTH_MODES:
        raise ValueError(f"auth must be one of {', '.join(AUTH_MODES)}, got {auth!r}")
    if auth == "auto":
        return "basic" if scheme == "https" else "oauth"
    if auth == "basic" and scheme == "http" and not is_loopback_url(url):
        raise ValueError("Basic auth over plain http would send the consumer secret in the "
                         "clear; use https or OAuth")
    return auth


def _encode_query(params: Mapping[str, str]) -> str:
    # rawurlencode everything (no '+' for space): what PHP's $_GET decodes back exactly
    return "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in params.items())


def _redact(text: str) -> str:
    """Drop query strings (OAuth parameters) from URLs inside an exception text."""
    return re.sub(r"\?[^\s'\")]*", "?...", text)


def _auth_hint(code: str | None, message: str, auth_mode: str) -> str:
    if code == "woocommerce_rest_cannot_view":
        return _CANNOT_VIEW_HINT[auth_mode]
    return next((hint for needle, hint in _AUTH_HINTS if needle in message), "")


def _error_body(response: requests.Response) -> tuple[str | None, str]:
    """WordPress's ``{"code", "message", "data": {"status"}}``, or a short description of
    whatever else came back (a proxy's HTML page)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return body["code"], re.sub(r"<[^>]+>", "", str(body.get("message", ""))).strip()
    content_type = response.headers.get("Content-Type", "no content type")
    return None, f"not a WordPress error ({content_type}, {len(response.content)} bytes)"


def _json_body(response: requests.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        content_type = response.headers.get("Content-Type", "no content type")
        raise WooRestError(
            f"WooCommerce answered GET {path} with {response.status_code} but not JSON "
            f"({content_type}): is the url the shop's root, is the REST API enabled, are PHP "
            "notices printed into responses?", status=response.status_code) from None


def _json_object(response: requests.Response, path: str) -> dict[str, Any]:
    body = _json_body(response, path)
    if not isinstance(body, dict):
        raise WooRestError(f"WooCommerce answered {path} with a JSON {type(body).__name__}, "
                           "not an object", status=response.status_code)
    return body


def _json_list(response: requests.Response, path: str) -> list[dict[str, Any]]:
    body = _json_body(response, path)
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise WooRestError(f"WooCommerce answered GET {path} with JSON that is not a list of "
                           "orders", status=response.status_code)
    return body


def _totals(response: requests.Response, page: int, count: int,
            per_page: int) -> tuple[int, int]:
    """(X-WP-Total, X-WP-TotalPages); without them, guess from the page size."""
    total = _int_header(response, "X-WP-Total")
    total_pages = _int_header(response, "X-WP-TotalPages")
    if total_pages is None:
        total_pages = page + 1 if count == per_page else page
    if total is None:
        total = (page - 1) * per_page + count
    return total, total_pages


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None
