"""Serving the simulator: ``run_rest_simulator()`` on a background thread (tests) and
``main()`` (``python -m sandbox.woocommerce.rest_simulator``, a seeded shop in the
foreground)."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.woocommerce.rest_simulator.app import create_rest_simulator_app
from sandbox.woocommerce.rest_simulator.state import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    ORDERS_ROUTE,
    RestSimulatorState,
)


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
    parser = argparse.ArgumentParser(description=_description())
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


def _description() -> str:
    """The first line of the package's docstring."""
    from sandbox.woocommerce import rest_simulator  # the package imports this module

    return (rest_simulator.__doc__ or "").splitlines()[0]
