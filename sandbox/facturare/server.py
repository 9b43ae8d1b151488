"""Serving the simulator: ``run_simulator()`` on a background thread (tests, demo, fault
suite) and ``serve_forever()`` in the foreground (``invoice-bridge sandbox facturare``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from sandbox.facturare.app import create_simulator_app
from sandbox.facturare.state import DEMO_API_KEY, FacturareState
from sandbox.kit.control import SANDBOX_PREFIX
from sandbox.kit.serving import RunningServer, serve_in_thread, serve_until_interrupted


class RunningSimulator(RunningServer):
    """The simulator served on a background thread (``run_simulator``)."""

    state: FacturareState

    def __enter__(self) -> RunningSimulator:
        return self


def run_simulator(host: str = "127.0.0.1", port: int = 0,
                  state: FacturareState | None = None, *, quiet: bool = True
                  ) -> RunningSimulator:
    """Start serving in a background thread; port 0 picks a free port (see ``.url``)."""
    state = state if state is not None else FacturareState()
    app = create_simulator_app(state)
    server, thread = serve_in_thread(app, host=host, port=port, quiet=quiet,
                                     name="facturare-simulator")
    return RunningSimulator(server, thread, state, app)


def serve_forever(port: int = 0, host: str = "127.0.0.1", api_keys: Iterable[str] = (),
                  latency: float = 0.0, *, stop_event: threading.Event | None = None) -> None:
    """Serve until Ctrl-C (or ``stop_event``), printing the URL and the demo key."""
    state = FacturareState(latency=latency, api_keys=api_keys)
    simulator = run_simulator(host, port, state, quiet=False)
    serve_until_interrupted(simulator, _banner(simulator), stop_event)


def _banner(simulator: RunningSimulator) -> Iterator[str]:
    yield f"facturare.md simulator listening on {simulator.url}"
    yield "  resources:    /customers, /invoices, /payments (GET list, GET one, POST)"
    yield f"  demo API key: {DEMO_API_KEY}  (HTTP Basic user name, empty password)"
    others = len(simulator.state.api_keys) - 1
    if others > 0:
        yield f"  other API keys: {others}"
    yield f"  latency: {simulator.state.latency} s"
    yield f"  control API (ours, not facturare.md): {simulator.url}{SANDBOX_PREFIX}/"
