"""Serving a simulator: on a background thread (tests, the demo, the fault suite) or in
the foreground until Ctrl-C (``invoice-bridge sandbox KIND``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox.kit.connection import SimulatorRequestHandler
from sandbox.kit.faults import FaultInjector


class RunningServer:
    """A simulator app served by werkzeug's threaded server on a background thread."""

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread, state: Any,
                 app: Flask) -> None:
        self.server = server
        self.thread = thread
        #: the simulator's state (a ``FaultInjector``)
        self.state = state
        self.app = app
        self.host = server.host
        self.port: int = server.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{self.port}"

    def stop(self) -> None:
        """Stop serving; requests still sleeping (slow, latency) are woken up."""
        if isinstance(self.state, FaultInjector):
            self.state.wake_sleepers()
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_in_thread(app: Flask, *, host: str = "127.0.0.1", port: int = 0,
                    quiet: bool = True, name: str = "simulator"
                    ) -> tuple[BaseWSGIServer, threading.Thread]:
    """Start serving ``app`` in a daemon thread; port 0 picks a free port."""
    try:
        server = make_server(host, port, app, threaded=True,
                             request_handler=SimulatorRequestHandler)
    except SystemExit as exc:  # werkzeug exits the process when it cannot bind
        raise OSError(f"cannot listen on {host}:{port}") from exc
    server.simulator_quiet = quiet  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              name=f"{name}-{server.port}", daemon=True)
    thread.start()
    return server, thread


def serve_until_interrupted(running: RunningServer, banner: Iterable[str],
                            stop_event: threading.Event | None = None) -> None:
    """Print ``banner`` and serve until Ctrl-C (or ``stop_event``)."""
    stop_event = stop_event or threading.Event()
    with running:
        for line in banner:
            print(line, flush=True)
        try:
            while not stop_event.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("stopping", flush=True)
