"""``create_rest_simulator_app``: the Flask app taking every request through WordPress's REST
pipeline -- routing (pretty permalinks or ``?rest_route=``), latency and queued faults,
authentication, the key's permissions, parameter validation, the permission check, then the
orders collection or a single order -- and logging it."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request

from sandbox.woocommerce.rest_simulator import writes
from sandbox.woocommerce.rest_simulator.auth import (
    Authenticator,
    AuthResult,
    claimed_credentials,
)
from sandbox.woocommerce.rest_simulator.listing import Lister, ListQuery, link_header
from sandbox.woocommerce.rest_simulator.params import ITEM_CHECKS, collection_checks, validate
from sandbox.woocommerce.rest_simulator.php import absint, php_query, rawurlencode
from sandbox.woocommerce.rest_simulator.responses import (
    WpError,
    auth_error,
    cannot_view,
    fault_response,
    json_response,
)
from sandbox.woocommerce.rest_simulator.state import (
    ORDERS_ROUTE,
    RestRequestRecord,
    RestSimulatorState,
)

#: The package's name, the app's name since the simulator was a single module (it names
#: ``app.logger``).
_APP_NAME = __name__.rpartition(".")[0]
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_ITEM_ROUTE = re.compile(r"^/wc/v3/orders/(\d+)$")
_NOTES_ROUTE = re.compile(r"^/wc/v3/orders/(\d+)/notes$")
_NOTE_ROUTE = re.compile(r"^/wc/v3/orders/(\d+)/notes/(\d+)$")
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


class _Request:
    """One request through WordPress's REST pipeline."""

    def __init__(self, state: RestSimulatorState, path: str) -> None:
        self.state = state
        self.path = path
        self.query = php_query(request.query_string.decode("utf-8", "replace"))
        self.route = self._route()
        self.auth = AuthResult()

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
        fault = self.state.take_fault(self._fault_kind(), self._page())
        if fault is not None:
            self.state.sleep(fault.delay)
        if fault is not None and fault.status is not None and not fault.after:
            return _faulty(fault.status)
        try:
            response = self._dispatch()
        except WpError as error:
            response = error.response()
        if fault is not None and fault.status is not None:  # carried out, answer lost
            return _faulty(fault.status)
        return response

    def _kind(self) -> str:
        if self.route == ORDERS_ROUTE:
            return "list"
        if self.route and _NOTES_ROUTE.match(self.route):
            return "notes"
        if self.route and _NOTE_ROUTE.match(self.route):
            return "note"
        return "item" if self.route and _ITEM_ROUTE.match(self.route) else "other"

    def _fault_kind(self) -> str:
        if request.method not in _WRITES:
            return self._kind()
        return "note_write" if self._kind() == "notes" else "write"

    def _page(self) -> int:
        return absint(self.query.get("page", "1")) or 1

    def _dispatch(self) -> Response:
        if self.route is not None and self.route.lstrip("/").startswith(("wc/", "wc-")):
            self.auth = Authenticator(self.state, self.query).run()
        if self.auth.error is not None:
            # no WWW-Authenticate: after Basic fails WooCommerce always goes on to OAuth, so
            # send_unauthorized_headers() never sees auth_method == 'basic_auth'
            raise self.auth.error
        self._check_key_permissions()
        kind = self._kind()
        method = request.method
        if kind in ("item", "notes") and method in ("POST", "PUT", "PATCH"):
            return self._write(kind)
        if method not in ("GET", "HEAD") or kind == "other":
            raise WpError("rest_no_route",
                          "No route was found matching the URL and request method.", 404)
        if kind in ("notes", "note"):
            return self._notes(kind)
        return self._list() if kind == "list" else self._item()

    def _check_key_permissions(self) -> None:
        user = self.auth.user
        if user is not None and request.method in ("GET", "HEAD") and \
                user.permissions not in ("read", "read_write"):
            raise auth_error("The API key provided does not have read permissions.")
        if user is not None and request.method in _WRITES and \
                user.permissions not in ("write", "read_write"):
            raise auth_error("The API key provided does not have write permissions.")

    def _order_id(self) -> int:
        match = re.match(r"^/wc/v3/orders/(\d+)", self.route or "")
        return int(match.group(1)) if match else 0

    def _body(self) -> dict[str, Any]:
        """The request's parameters: the query, then a JSON body over it (WP_REST_Request
        merges them so)."""
        body = request.get_json(silent=True) if request.is_json else None
        if request.is_json and request.get_data() and body is None:
            raise WpError("rest_invalid_json", "Invalid JSON body passed.", 400)
        return {**self.query, **(body if isinstance(body, dict) else {})}

    def _write(self, kind: str) -> Response:
        body = self._body()
        user = self.auth.user
        if user is None:
            raise WpError("woocommerce_rest_cannot_edit" if kind == "item"
                          else "woocommerce_rest_cannot_create",
                          "Sorry, you are not allowed to edit this resource." if kind == "item"
                          else "Sorry, you are not allowed to create resources.", 401)
        if kind == "item":
            order = writes.update_order(self.state, user, self._order_id(), body)
            return json_response(order)
        note = writes.add_note(self.state, user, self._order_id(), body)
        return json_response(note, 201)

    def _notes(self, kind: str) -> Response:
        if self.auth.user is None:
            raise cannot_view("Sorry, you cannot list resources." if kind == "notes"
                              else "Sorry, you cannot view this resource.")
        if kind == "notes":
            return json_response(writes.list_notes(self.state, self.auth.user,
                                                   self._order_id()))
        match = _NOTE_ROUTE.match(self.route or "")
        note_id = int(match.group(2)) if match else 0
        return json_response(writes.get_note(self.state, self._order_id(), note_id))

    def _list(self) -> Response:
        validate(self.query, collection_checks(self.state))
        if self.auth.user is None:
            raise cannot_view("Sorry, you cannot list resources.")
        query = ListQuery.from_query(self.query)
        orders, total, pages = Lister(self.state, query).page()
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages),
                   "Allow": "GET, POST"}
        link = link_header(self._collection_url(), self.query, query.page, pages)
        if link:
            headers["Link"] = link
        return json_response(orders, headers=headers)

    def _item(self) -> Response:
        validate(self.query, ITEM_CHECKS)
        match = _ITEM_ROUTE.match(self.route or "")
        order = self.state.order(int(match.group(1))) if match else None
        if self.auth.user is None:
            raise cannot_view("Sorry, you cannot view this resource.")
        if order is None:
            raise WpError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return json_response(order, headers={"Allow": "GET, POST, PUT, PATCH, DELETE"})

    def _collection_url(self) -> str:
        """rest_url('/wc/v3/orders'): the pretty form, or index.php?rest_route= without."""
        home = request.host_url.rstrip("/")
        if self.state.pretty_permalinks:
            return f"{home}/wp-json{ORDERS_ROUTE}"
        return f"{home}/index.php?rest_route={rawurlencode(ORDERS_ROUTE)}"

    def record(self, status: int) -> None:
        args = {name: request.args.getlist(name) for name in request.args}
        auth, consumer_key = claimed_credentials(self.query)
        self.state.record(RestRequestRecord(
            method=request.method, path=request.path, route=self.route, args=args,
            auth=auth, consumer_key=consumer_key,
            user_agent=request.headers.get("User-Agent"), accept=request.headers.get("Accept"),
            status=status))


def _faulty(status: int) -> Response:
    response = fault_response(status)
    response.headers["X-Simulator-Fault"] = str(status)
    return response


def create_rest_simulator_app(state: RestSimulatorState) -> Flask:
    """The Flask app serving ``state``."""
    app = Flask(_APP_NAME)

    @app.route("/", defaults={"path": ""}, methods=_METHODS)
    @app.route("/<path:path>", methods=_METHODS)
    def handle(path: str) -> Response:
        current = _Request(state, path)
        response = current.handle()
        current.record(response.status_code)
        return response

    return app
