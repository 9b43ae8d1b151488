"""Serving the simulator: ``run_simulator()`` on a background thread (tests, the demo, the
fault suite) and ``serve_forever()`` in the foreground (``invoice-bridge sandbox
fakturoid``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from bridge.upstreams.fakturoid import assumptions as fak
from sandbox.fakturoid.app import create_simulator_app
from sandbox.fakturoid.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SLUG,
    DEMO_USER_AGENT,
    SimulatorState,
)
from sandbox.kit.control import SANDBOX_PREFIX
from sandbox.kit.serving import RunningServer, serve_in_thread, serve_until_interrupted


class RunningSimulator(RunningServer):
    """The simulator served on a background thread; ``url`` is what ``base_url`` is set to
    (it stands for https://app.fakturoid.cz/api/v3)."""

    state: SimulatorState

    def __enter__(self) -> RunningSimulator:
        return self


def run_simulator(host: str = "127.0.0.1", port: int = 0, state: SimulatorState | None = None,
                  *, quiet: bool = True) -> RunningSimulator:
    state = state if state is not None else SimulatorState()
    app = create_simulator_app(state)
    server, thread = serve_in_thread(app, host=host, port=port, quiet=quiet,
                                     name="fakturoid-simulator")
    return RunningSimulator(server, thread, state, app)


def serve_forever(port: int = 0, host: str = "127.0.0.1", *,
                  stop_event: threading.Event | None = None, **switches: Any) -> None:
    """Serve until Ctrl-C (or ``stop_event``), printing the URL and the demo credentials."""
    simulator = run_simulator(host, port, SimulatorState(**switches), quiet=False)
    serve_until_interrupted(simulator, _banner(simulator), stop_event)


def _banner(simulator: RunningSimulator) -> Iterator[str]:
    switches = simulator.state.switches
    yield (f"Fakturoid API v3 simulator listening on {simulator.url} "
           f"(stands for {fak.DEFAULT_BASE_URL})")
    yield f"  token:         POST {simulator.url}{fak.TOKEN_PATH} (HTTP Basic id:secret)"
    yield f"  account:       {simulator.url}{fak.ACCOUNT_PREFIX.format(slug=DEMO_SLUG)}/..."
    yield f"  demo client:   client_id {DEMO_CLIENT_ID}"
    yield f"                 client_secret {DEMO_CLIENT_SECRET}"
    yield f"  any User-Agent such as: {DEMO_USER_AGENT}"
    yield (f"  rate limit {switches.rate_quota} per {switches.rate_window} s; tokens last "
           f"{switches.token_lifetime} s; cancel allowed for: {switches.cancel_allowed}")
    yield f"  control API (ours, not Fakturoid's): {simulator.url}{SANDBOX_PREFIX}/"
