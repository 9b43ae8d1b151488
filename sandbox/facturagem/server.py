"""Serving the simulator: ``run_simulator()`` on a background thread (tests, demo, fault
suite) and ``serve_forever()`` in the foreground (``invoice-bridge sandbox facturagem``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from sandbox.facturagem.app import API_ROOT, create_simulator_app
from sandbox.facturagem.state import DEMO_ACCOUNT_ID, DEMO_LOGIN, DEMO_PASSWORD, FacturagemState
from sandbox.kit.control import SANDBOX_PREFIX
from sandbox.kit.serving import RunningServer, serve_in_thread, serve_until_interrupted


class RunningSimulator(RunningServer):
    """The simulator served on a background thread."""

    state: FacturagemState

    @property
    def api_url(self) -> str:
        """The API root, what ``[shops.upstream] base_url`` points at."""
        return self.url + API_ROOT

    def __enter__(self) -> RunningSimulator:
        return self


def run_simulator(host: str = "127.0.0.1", port: int = 0,
                  state: FacturagemState | None = None, *, quiet: bool = True
                  ) -> RunningSimulator:
    """Start serving in a background thread; port 0 picks a free port."""
    state = state if state is not None else FacturagemState()
    app = create_simulator_app(state)
    server, thread = serve_in_thread(app, host=host, port=port, quiet=quiet,
                                     name="facturagem-simulator")
    return RunningSimulator(server, thread, state, app)


def serve_forever(port: int = 0, host: str = "127.0.0.1", *, latency: float = 0.0,
                  page_size: int = 25, summaries: str = "full",
                  stop_event: threading.Event | None = None) -> None:
    """Serve until Ctrl-C (or ``stop_event``), printing the URL and the demo user."""
    state = FacturagemState(latency=latency, page_size=page_size, summaries=summaries)
    simulator = run_simulator(host, port, state, quiet=False)
    serve_until_interrupted(simulator, _banner(simulator), stop_event)


def _banner(simulator: RunningSimulator) -> Iterator[str]:
    config = simulator.state.config()
    yield f"FACTURAgem simulator listening on {simulator.url}"
    yield f"  API (base_url):  {simulator.api_url}"
    yield f"  demo user:       login {DEMO_LOGIN}  password {DEMO_PASSWORD}"
    yield f"  demo account:    {DEMO_ACCOUNT_ID}"
    yield (f"  page size: {config['page_size']}; list summaries: {config['summaries']}; "
           f"latency: {config['latency']} s")
    yield f"  control API (ours, not FACTURAgem's): {simulator.url}{SANDBOX_PREFIX}/"
