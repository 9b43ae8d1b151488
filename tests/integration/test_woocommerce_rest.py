"""The WooCommerce REST client (backfill) against the REST simulator, over real HTTP on
127.0.0.1.

Reference: docs/woocommerce.md section 5; the behaviours the simulator
imitates are listed (with their WooCommerce / WordPress sources) in its module docstring.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from bridge.config.model import WooRestSettings
from bridge.woocommerce.rest import (
    WooRestAuthError,
    WooRestClient,
    WooRestError,
    WooRestNotFound,
    WooRestTransientError,
    oauth_sign,
)
from sandbox.woocommerce.rest_simulator import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    RestSimulatorState,
    RunningRestSimulator,
    run_rest_simulator,
)
from sandbox.woocommerce.samples import build_order

KEY, SECRET = DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET
WRONG_SECRET = "cs_0000000000000000000000000000000000000bad"
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)  # Chisinau is UTC+2 then (DST starts 30 March)


class Sleeps(list[float]):
    """Records the client's back-off pauses instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def shop() -> Iterator[RunningRestSimulator]:
    """A shop on plain HTTP: WooCommerce accepts OAuth 1.0a only."""
    with run_rest_simulator(state=RestSimulatorState(ssl=False)) as running:
        yield running


@pytest.fixture
def tls_shop() -> Iterator[RunningRestSimulator]:
    """A shop whose WordPress sees HTTPS (TLS proxy in front): Basic auth is accepted."""
    with run_rest_simulator(state=RestSimulatorState(ssl=True)) as running:
        yield running


def client_for(sim: RunningRestSimulator, *, key: str = KEY, secret: str = SECRET,
               timeout: float = 5.0, **options: Any) -> WooRestClient:
    options.setdefault("sleep", Sleeps())
    settings = WooRestSettings(url=sim.url, consumer_key=key, consumer_secret=secret,
                               timeout=timeout)
    return WooRestClient(settings, **options)


def walk(client: WooRestClient, **kwargs: Any) -> list[dict[str, Any]]:
    return [order for page in client.iter_orders(EPOCH, **kwargs) for order in page.orders]


def ids(orders: list[dict[str, Any]]) -> list[int]:
    return [order["id"] for order in orders]


def basic_get(sim: RunningRestSimulator, target: str, **params: Any) -> requests.Response:
    return requests.get(sim.url + target, params=params, auth=(KEY, SECRET), timeout=5)


def seed_at(sim: RunningRestSimulator, minutes: list[int], first_id: int = 1) -> None:
    """Orders ``first_id..`` modified ``minutes[i]`` minutes after T0, stored highest id
    first (so only an explicit id tie-break sorts equal dates by id)."""
    for index, minute in reversed(list(enumerate(minutes))):
        sim.state.put_order(build_order(order_id=first_id + index, date_created_gmt=T0,
                                        date_modified_gmt=T0 + timedelta(minutes=minute)))


# --- paging ------------------------------------------------------------------------------


def test_walk_reads_every_order_once_in_modified_order(shop: RunningRestSimulator) -> None:
    minutes = list(range(250))
    random.Random(7).shuffle(minutes)  # modification order unrelated to ids
    minutes[10] = minutes[11]  # two orders modified in the same second: ids break the tie
    seed_at(shop, minutes)

    pages = list(client_for(shop).iter_orders(EPOCH, per_page=100))

    assert [(p.page, p.total_pages, p.total, len(p.orders)) for p in pages] == [
        (1, 3, 250, 100), (2, 3, 250, 100), (3, 3, 250, 50)]
    orders = [order for page in pages for order in page.orders]
    assert sorted(ids(orders)) == list(range(1, 251))
    keys = [(order["date_modified_gmt"], order["id"]) for order in orders]
    assert keys == sorted(keys)
    sent = shop.state.list_requests()
    assert [entry.page for entry in sent] == [1, 2, 3]
    for entry in sent:
        assert entry.args["dates_are_gmt"] == ["true"]
        assert entry.args["orderby"] == ["modified"] and entry.args["order"] == ["asc"]
        assert entry.args["per_page"] == ["100"] and entry.args["status"] == ["any"]
        assert entry.args["modified_after"] == ["2020-01-01T00:00:00"]
        assert entry.auth == "oauth" and entry.consumer_key == KEY
        assert entry.accept == "application/json"
        assert entry.user_agent is not None and entry.user_agent.startswith("invoice-bridge/")


def test_modified_bounds_filter_on_gmt_dates_exclusively(shop: RunningRestSimulator) -> None:
    seed_at(shop, [0, 10, 20, 30, 40, 50, 60, 70, 80])  # ids 1..9

    client = client_for(shop)
    pages = list(client.iter_orders(T0 + timedelta(minutes=30),
                                    modified_before=T0 + timedelta(minutes=70)))

    # both bounds are strict: the orders modified exactly at 30 and 70 minutes are out
    assert ids(pages[0].orders) == [5, 6, 7]
    assert (pages[0].total, pages[0].total_pages) == (3, 1)
    assert shop.state.list_requests()[0].args["modified_before"] == ["2025-03-01T11:10:00"]


def test_bounds_must_be_aware(shop: RunningRestSimulator) -> None:
    with pytest.raises(ValueError, match="time zone"):
        next(client_for(shop).iter_orders(datetime(2025, 3, 1, 10, 0)))
    assert shop.state.requests == []


def test_without_dates_are_gmt_the_shop_reads_local_time(tls_shop: RunningRestSimulator) -> None:
    seed_at(tls_shop, [0, 30])  # 10:00Z and 10:30Z = 12:00 and 12:30 in Chisinau
    target = "/wp-json/wc/v3/orders"

    as_gmt = basic_get(tls_shop, target, modified_after="2025-03-01T11:00:00",
                       dates_are_gmt="true")
    as_local = basic_get(tls_shop, target, modified_after="2025-03-01T11:00:00")
    # WP_Date_Query turns a bound with an offset into local time, even with dates_are_gmt
    with_offset = basic_get(tls_shop, target, modified_after="2025-03-01T09:45:00Z",
                            dates_are_gmt="true")

    assert as_gmt.status_code == as_local.status_code == with_offset.status_code == 200
    assert ids(as_gmt.json()) == [] and as_gmt.headers["X-WP-Total"] == "0"
    assert sorted(ids(as_local.json())) == [1, 2]
    assert ids(with_offset.json()) == []
    local_dates = {order["id"]: order["date_modified"] for order in as_local.json()}
    assert local_dates == {1: "2025-03-01T12:00:00", 2: "2025-03-01T12:30:00"}


def test_orders_added_during_the_walk_extend_it(shop: RunningRestSimulator) -> None:
    shop.state.seed_orders(150, first_id=1, start=T0)
    pages = client_for(shop).iter_orders(EPOCH, per_page=100)

    first = next(pages)
    shop.state.seed_orders(100, first_id=5001, start=T0 + timedelta(days=30))
    rest = list(pages)

    assert (first.page, first.total_pages, first.total) == (1, 2, 150)
    assert [(p.page, p.total_pages, p.total) for p in rest] == [(2, 3, 250), (3, 3, 250)]
    seen = ids(first.orders) + [order["id"] for page in rest for order in page.orders]
    assert sorted(seen) == [*range(1, 151), *range(5001, 5101)]


def test_an_order_modified_during_the_walk_repeats_and_can_hide_another(
        shop: RunningRestSimulator) -> None:
    shop.state.seed_orders(200, first_id=1, start=T0)
    client = client_for(shop)
    pages = client.iter_orders(EPOCH, per_page=100)

    first = next(pages)
    shop.state.touch_order(5, T0 + timedelta(days=60))  # order 5 moves to the end
    rest = list(pages)

    seen = ids(first.orders) + [order["id"] for page in rest for order in page.orders]
    assert seen.count(5) == 2  # once as it was, once modified: dedupe on (id, modified)
    assert sorted(set(range(1, 201)) - set(seen)) == [101]  # shifted onto page 1: skipped
    assert 101 in ids(walk(client))  # the next, overlapping walk finds it


# --- authentication ----------------------------------------------------------------------


def test_basic_auth_works_when_the_shop_sees_https(tls_shop: RunningRestSimulator) -> None:
    tls_shop.state.seed_orders(3, first_id=1)
    client = client_for(tls_shop, auth="basic")

    assert sorted(ids(walk(client))) == [1, 2, 3]
    assert client.get_order(2)["id"] == 2
    sent = tls_shop.state.requests
    assert [entry.auth for entry in sent] == ["basic", "basic"]
    assert all(not any(name.startswith("oauth_") for name in entry.args) for entry in sent)


def test_wrong_secret_over_basic_is_refused_clearly(tls_shop: RunningRestSimulator) -> None:
    client = client_for(tls_shop, auth="basic", secret=WRONG_SECRET)

    with pytest.raises(WooRestAuthError) as caught:
        walk(client)

    error = caught.value
    assert (error.status, error.code) == (401, "woocommerce_rest_authentication_error")
    assert "WooCommerce refused the REST key (401 woocommerce_rest_authentication_error): " \
           "Consumer secret is invalid." in str(error)
    assert WRONG_SECRET not in str(error) and not error.retryable
    assert len(tls_shop.state.requests) == 1  # never retried


def test_unknown_key_over_basic_is_just_a_visitor(tls_shop: RunningRestSimulator) -> None:
    client = client_for(tls_shop, auth="basic", key="ck_unknown")

    with pytest.raises(WooRestAuthError) as listing:
        walk(client)
    with pytest.raises(WooRestAuthError) as single:
        client.get_order(404404)  # even a missing id: the permission check comes first

    assert listing.value.code == single.value.code == "woocommerce_rest_cannot_view"
    assert "Sorry, you cannot list resources." in str(listing.value)
    assert "Sorry, you cannot view this resource." in str(single.value)


def test_basic_auth_is_ignored_by_a_plain_http_shop(shop: RunningRestSimulator) -> None:
    client = client_for(shop, auth="basic")

    with pytest.raises(WooRestAuthError) as caught:
        walk(client)

    assert (caught.value.status, caught.value.code) == (401, "woocommerce_rest_cannot_view")
    assert "TLS proxy" in str(caught.value)


def test_basic_auth_to_a_remote_plain_http_url_is_refused() -> None:
    settings = WooRestSettings(url="http://shop.example", consumer_key=KEY,
                               consumer_secret=SECRET)
    with pytest.raises(ValueError, match="in the clear"):
        WooRestClient(settings, auth="basic")


def test_tampered_oauth_signature_is_refused(shop: RunningRestSimulator) -> None:
    url = shop.orders_url
    params = {"per_page": "5", "dates_are_gmt": "true"}

    def signed(nonce: str) -> dict[str, str]:
        return oauth_sign("GET", url, params, KEY, SECRET, timestamp=int(time.time()),
                          nonce=nonce)

    good = requests.get(url, params=signed("n1"), timeout=5)
    tampered = signed("n2")
    tampered["oauth_signature"] = tampered["oauth_signature"][::-1]
    bad = requests.get(url, params=tampered, timeout=5)

    assert good.status_code == 200
    assert bad.status_code == 401
    assert bad.json() == {"code": "woocommerce_rest_authentication_error",
                          "message": "Invalid signature - provided signature does not match.",
                          "data": {"status": 401}}


def test_oauth_with_the_wrong_secret_names_the_likely_causes(shop: RunningRestSimulator) -> None:
    with pytest.raises(WooRestAuthError) as caught:
        walk(client_for(shop, secret=WRONG_SECRET))

    assert "Invalid signature - provided signature does not match." in str(caught.value)
    assert "home URL" in str(caught.value) and WRONG_SECRET not in str(caught.value)


def test_oauth_timestamp_and_nonce_are_checked(shop: RunningRestSimulator) -> None:
    stale = client_for(shop, clock=lambda: time.time() - 3600)
    fixed_nonce = client_for(shop, nonce=lambda: "same-nonce-every-time")

    with pytest.raises(WooRestAuthError, match=r"Invalid timestamp\. -- check this machine"):
        stale.get_order(1)
    with pytest.raises(WooRestNotFound):
        fixed_nonce.get_order(1)  # authenticated; there is just no order 1
    with pytest.raises(WooRestAuthError, match="nonce has already been used"):
        fixed_nonce.get_order(1)


def test_oauth_fails_when_the_shop_believes_it_is_https(tls_shop: RunningRestSimulator) -> None:
    # signed for http://, checked by WordPress against https:// (TLS proxy in front)
    with pytest.raises(WooRestAuthError, match="provided signature does not match"):
        client_for(tls_shop, auth="oauth").get_order(1)


# --- parameter validation ----------------------------------------------------------------


def test_per_page_above_100_is_a_400(tls_shop: RunningRestSimulator) -> None:
    answer = basic_get(tls_shop, "/wp-json/wc/v3/orders", per_page=101)

    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == "Invalid parameter(s): per_page"
    assert body["data"]["params"] == {
        "per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}
    assert body["data"]["details"]["per_page"]["code"] == "rest_out_of_bounds"
    with pytest.raises(ValueError, match="per_page"):
        next(client_for(tls_shop).iter_orders(EPOCH, per_page=101))
    assert len(tls_shop.state.requests) == 1  # the client sent nothing


def test_invalid_parameters_get_wordpress_messages(tls_shop: RunningRestSimulator) -> None:
    answer = basic_get(tls_shop, "/wp-json/wc/v3/orders", page=0, orderby="price",
                       order="up", modified_after="yesterday", dates_are_gmt="maybe",
                       status="processing,shipped")

    assert answer.status_code == 400
    assert answer.json()["data"]["params"] == {
        "page": "page must be greater than or equal to 1",
        "modified_after": "Invalid date.",
        "dates_are_gmt": "dates_are_gmt is not of type boolean.",
        "order": "order is not one of asc and desc.",
        "orderby": "orderby is not one of date, id, include, title, slug, and modified.",
        "status": "status[1] is not one of any, trash, auto-draft, pending, processing, "
                  "on-hold, completed, cancelled, refunded, failed, and checkout-draft.",
    }


def test_rest_route_form_and_link_headers(tls_shop: RunningRestSimulator) -> None:
    tls_shop.state.seed_orders(25, first_id=1)

    middle = basic_get(tls_shop, "/", rest_route="/wc/v3/orders", per_page=10, page=2)
    past_end = basic_get(tls_shop, "/wp-json/wc/v3/orders/", per_page=10, page=5)

    assert middle.status_code == 200 and len(middle.json()) == 10
    assert (middle.headers["X-WP-Total"], middle.headers["X-WP-TotalPages"]) == ("25", "3")
    assert set(middle.links) == {"prev", "next"}  # no first/last, unlike the docs
    assert "page=1" in middle.links["prev"]["url"] and "page=3" in middle.links["next"]["url"]
    assert past_end.json() == [] and past_end.headers["X-WP-Total"] == "25"
    assert set(past_end.links) == {"prev"} and "page=3" in past_end.links["prev"]["url"]


# --- failures and retries ----------------------------------------------------------------


def test_a_server_error_on_one_page_is_retried(shop: RunningRestSimulator) -> None:
    shop.state.seed_orders(250, first_id=1, start=T0)
    sleeps = Sleeps()
    shop.state.add_fault(500, times=2, page=2)

    orders = walk(client_for(shop, sleep=sleeps), per_page=100)

    assert sorted(ids(orders)) == list(range(1, 251))
    sent = shop.state.list_requests()
    assert [(entry.page, entry.status) for entry in sent] == [
        (1, 200), (2, 500), (2, 500), (2, 200), (3, 200)]
    assert len({entry.args["oauth_nonce"][0] for entry in sent}) == 5  # fresh nonce each time
    assert sleeps == [0.5, 1.0]


def test_retries_run_out_on_a_persistent_server_error(shop: RunningRestSimulator) -> None:
    sleeps = Sleeps()
    shop.state.add_fault(503, times=10)

    with pytest.raises(WooRestTransientError) as caught:
        walk(client_for(shop, sleep=sleeps))

    assert caught.value.status == 503 and caught.value.retryable
    assert len(shop.state.list_requests()) == 4  # the first try and 3 retries
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_timeout_is_retried(shop: RunningRestSimulator) -> None:
    shop.state.seed_orders(3, first_id=1)
    sleeps = Sleeps()
    shop.state.add_fault(None, delay=2.0)  # the first list request answers too late

    orders = walk(client_for(shop, timeout=0.3, sleep=sleeps))

    assert sorted(ids(orders)) == [1, 2, 3]
    assert sleeps == [0.5]


def test_an_unreachable_shop_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    settings = WooRestSettings(url=f"http://127.0.0.1:{port}", consumer_key=KEY,
                               consumer_secret=SECRET, timeout=2)

    with pytest.raises(WooRestTransientError, match="cannot reach WooCommerce") as caught:
        WooRestClient(settings, sleep=sleeps).get_order(1)

    assert caught.value.status is None and len(sleeps) == 3
    assert "oauth_signature" not in str(caught.value)


@pytest.mark.parametrize(("status", "error_type"), [
    (400, WooRestError), (403, WooRestAuthError), (404, WooRestNotFound),
    (429, WooRestTransientError)])
def test_client_errors_are_not_retried(shop: RunningRestSimulator, status: int,
                                       error_type: type[WooRestError]) -> None:
    sleeps = Sleeps()
    shop.state.add_fault(status, times=5)

    with pytest.raises(error_type) as caught:
        walk(client_for(shop, sleep=sleeps))

    assert caught.value.status == status
    assert len(shop.state.list_requests()) == 1 and sleeps == []


# --- single orders -----------------------------------------------------------------------


def test_get_order_and_its_404(shop: RunningRestSimulator) -> None:
    stored = shop.state.put_order(build_order(order_id=4242, status="on-hold"))
    client = client_for(shop)

    assert client.get_order(4242) == stored
    with pytest.raises(WooRestNotFound) as caught:
        client.get_order(4243)

    assert (caught.value.status, caught.value.code) == (
        404, "woocommerce_rest_shop_order_invalid_id")
    assert str(caught.value).endswith("Invalid ID.")
    assert [entry.path for entry in shop.state.requests] == [
        "/wp-json/wc/v3/orders/4242", "/wp-json/wc/v3/orders/4243"]


def test_the_secret_is_never_logged(shop: RunningRestSimulator,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shop.state.add_fault(500, times=1)
    client = client_for(shop)
    walk(client)
    with pytest.raises(WooRestAuthError) as caught:
        walk(client_for(shop, secret=WRONG_SECRET))

    assert "retry 1/3" in caplog.text  # the retry was logged ...
    for text in (caplog.text, str(caught.value), repr(client)):
        assert SECRET not in text and WRONG_SECRET not in text  # ... without secrets
