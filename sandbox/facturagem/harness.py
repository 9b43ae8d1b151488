"""The FACTURAgem adapter against this simulator, for the port's contract suite
(``sandbox.contract``). The adapter logs in when the harness starts, so a fault queued for
"the next request" reaches the invoice or payment, as the suite means it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bridge.upstreams.facturagem.adapter import FacturagemUpstream
from bridge.upstreams.facturagem.settings import FacturagemSettings
from sandbox.contract import Fault, Harness
from sandbox.facturagem.server import RunningSimulator, run_simulator
from sandbox.facturagem.state import DEMO_LOGIN, DEMO_PASSWORD

#: the adapter's read timeout here; ``Fault.TIMEOUT`` answers after three times that
READ_TIMEOUT = 0.5

_FAULTS: dict[Fault, tuple[str, dict[str, Any]]] = {
    Fault.SERVER_ERROR: ("500", {"times": 1}),
    Fault.GATEWAY_PAGE: ("gateway", {"times": 1}),
    Fault.RATE_LIMITED: ("429", {"times": 1}),
    # refused twice: the request, then the new login the adapter makes after a 401
    Fault.UNAUTHORIZED: ("401", {"times": 2}),
    Fault.FORBIDDEN: ("403", {"times": 1}),
    Fault.INVALID: ("422", {"times": 1}),
    Fault.TIMEOUT: ("slow", {"times": 1, "delay": 3 * READ_TIMEOUT}),
    Fault.DROP_AFTER_CREATE: ("drop_after_create", {"times": 1}),
    Fault.UNREADABLE: ("malformed", {"times": 1}),
}


@dataclass
class _RunningFacturagem:
    adapter: FacturagemUpstream
    simulator: RunningSimulator

    def inject(self, fault: Fault, *, retry_after: int = 7) -> None:
        kind, options = _FAULTS[fault]
        if fault is Fault.RATE_LIMITED:
            options = {**options, "retry_after": retry_after}
        self.simulator.state.add_fault(kind, **options)

    def invoice_count(self, order_id: int) -> int:
        return sum(1 for invoice in self.simulator.state.invoices()
                   if invoice.order_id == order_id)


@contextmanager
def _start() -> Iterator[_RunningFacturagem]:
    with run_simulator() as simulator:
        adapter = FacturagemUpstream(FacturagemSettings(
            base_url=simulator.api_url, login=DEMO_LOGIN, password=DEMO_PASSWORD,
            connect_timeout=2.0, read_timeout=READ_TIMEOUT))
        try:
            adapter.check_credentials()
            yield _RunningFacturagem(adapter, simulator)
        finally:
            adapter.close()


FACTURAGEM_HARNESS = Harness(kind="facturagem", start=_start)
