"""The e-Cont.md adapter against this simulator, for the port's contract suite
(``sandbox.contract``). The simulated account folds a repeated order (``reject``: the
documented 409 + code 1062 assumption) and the adapter is told so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bridge.upstreams.econt.adapter import EcontUpstream
from bridge.upstreams.econt.settings import EcontSettings
from sandbox.contract import Fault, Harness
from sandbox.econt.server import RunningSimulator, run_simulator
from sandbox.econt.state import DEMO_CLIENT_ID, DEMO_TOKEN, SimulatorState

#: the adapter's read timeout here; ``Fault.TIMEOUT`` answers after three times that
READ_TIMEOUT = 0.5

_FAULTS: dict[Fault, tuple[str, dict[str, Any]]] = {
    Fault.SERVER_ERROR: ("500", {}),
    Fault.GATEWAY_PAGE: ("gateway", {}),
    Fault.RATE_LIMITED: ("429", {}),
    Fault.UNAUTHORIZED: ("401", {}),
    Fault.FORBIDDEN: ("403", {}),
    Fault.INVALID: ("422", {}),
    Fault.TIMEOUT: ("slow", {"delay": 3 * READ_TIMEOUT}),
    Fault.DROP_AFTER_CREATE: ("drop_after_create", {}),
    Fault.UNREADABLE: ("malformed", {}),
}


@dataclass
class _RunningEcont:
    adapter: EcontUpstream
    simulator: RunningSimulator

    def inject(self, fault: Fault, *, retry_after: int = 7) -> None:
        kind, options = _FAULTS[fault]
        if fault is Fault.RATE_LIMITED:
            options = {"retry_after": retry_after}
        self.simulator.state.add_fault(kind, times=1, **options)

    def invoice_count(self, order_id: int) -> int:
        return len(self.simulator.state.invoices(order_id=order_id))


@contextmanager
def _start() -> Iterator[_RunningEcont]:
    with run_simulator(state=SimulatorState(repeated_order="reject")) as simulator:
        adapter = EcontUpstream(EcontSettings(
            base_url=simulator.url, client_id=DEMO_CLIENT_ID, token=DEMO_TOKEN,
            repeated_order="reject", connect_timeout=2.0, read_timeout=READ_TIMEOUT))
        try:
            yield _RunningEcont(adapter, simulator)
        finally:
            adapter.close()


ECONT_HARNESS = Harness(kind="econt", start=_start)
