"""Serving the simulator: ``run_simulator()`` on a background thread (tests, demo),
``serve_forever()`` in the foreground (``invoice-bridge sandbox econt``) and ``main()``
(``python -m sandbox.econt``)."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterable, Iterator, Sequence

from bridge.upstreams.econt.assumptions import (
    PUT_INVOICE_PATH,
    REPEATED_ORDER_MODES,
    is_valid_key,
)
from sandbox.econt.app import create_simulator_app
from sandbox.econt.state import DEMO_CLIENT_ID, DEMO_TOKEN, SimulatorState
from sandbox.kit.control import SANDBOX_PREFIX
from sandbox.kit.serving import RunningServer, serve_in_thread, serve_until_interrupted


class RunningSimulator(RunningServer):
    """The simulator served on a background thread (``run_simulator``)."""

    state: SimulatorState

    @property
    def put_invoice_url(self) -> str:
        return self.url + PUT_INVOICE_PATH

    def __enter__(self) -> RunningSimulator:
        return self


def run_simulator(host: str = "127.0.0.1", port: int = 0, state: SimulatorState | None = None,
                  *, quiet: bool = True) -> RunningSimulator:
    """Start serving in a background thread; port 0 picks a free port (see ``.url``)."""
    state = state if state is not None else SimulatorState()
    app = create_simulator_app(state)
    server, thread = serve_in_thread(app, host=host, port=port, quiet=quiet,
                                     name="econt-simulator")
    return RunningSimulator(server, thread, state, app)


def parse_account(text: str) -> tuple[str, str]:
    """``"CLIENT:TOKEN"`` -> (client, token); raises ``ValueError`` if malformed."""
    client, sep, token = text.partition(":")
    if not sep or not (is_valid_key(client) and is_valid_key(token)):
        raise ValueError(f"expected CLIENT:TOKEN, two 32-hex keys, got {text!r}")
    return client, token


def serve_forever(
    port: int = 0,
    host: str = "127.0.0.1",
    repeated_order: str = "reject",
    accounts: Iterable[str | tuple[str, str]] = (),
    latency: float = 0.0,
    check_totals: bool = True,
    *,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve until Ctrl-C (or ``stop_event``), printing the URL and the demo account."""
    pairs = [parse_account(a) if isinstance(a, str) else a for a in accounts]
    state = SimulatorState(repeated_order=repeated_order, check_totals=check_totals,
                           latency=latency, accounts=pairs)
    sim = run_simulator(host, port, state, quiet=False)
    serve_until_interrupted(sim, _banner(sim), stop_event)


def _banner(sim: RunningSimulator) -> Iterator[str]:
    config = sim.state.config()
    yield f"e-Cont.md simulator listening on {sim.url}"
    yield f"  put invoice:  POST {sim.put_invoice_url}"
    yield f"  demo account: client {DEMO_CLIENT_ID}  token {DEMO_TOKEN}"
    others = [client for client, _ in sim.state.accounts if client != DEMO_CLIENT_ID]
    if others:
        yield f"  other accounts (client ids): {', '.join(others)}"
    yield (f"  repeated orders: {config['repeated_order']}; totals check: "
           f"{'on' if config['check_totals'] else 'off'}; latency: {config['latency']} s")
    yield f"  control API (ours, not e-Cont.md): {sim.url}{SANDBOX_PREFIX}/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``invoice-bridge sandbox econt``, for the CLI to reuse."""
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--repeated-order", choices=REPEATED_ORDER_MODES, default="reject",
                        help="what a repeated order.id does (undocumented at e-Cont.md)")
    parser.add_argument("--account", action="append", default=[], metavar="CLIENT:TOKEN",
                        help="register another account (repeatable)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds added to every request")
    parser.add_argument("--no-check-totals", action="store_true",
                        help="do not require the line totals to add up to order.amount")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="econt-simulator",
                                     description="Offline imitation of e-Cont.md put/invoice.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        accounts = [parse_account(text) for text in args.account]
    except ValueError as exc:
        parser.error(str(exc))
    serve_forever(args.port, args.host, args.repeated_order, accounts, args.latency,
                  not args.no_check_totals)
    return 0
