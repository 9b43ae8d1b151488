"""The facturare.md adapter against this simulator, for the port's contract suite
(``sandbox.contract``). facturare.md creates a second invoice for a repeat (as far as anyone
knows), so the adapter finds invoices by our metadata key instead.

Customer requests take no faults here: every scenario aims its fault at the request that
creates the invoice (or the payment), and the adapter finds or creates the customer first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bridge.upstreams.facturare import assumptions as facturare
from bridge.upstreams.facturare.adapter import FacturareUpstream
from bridge.upstreams.facturare.settings import FacturareSettings
from sandbox.contract import Fault, Harness
from sandbox.facturare.server import RunningSimulator, run_simulator
from sandbox.facturare.state import DEMO_API_KEY, FacturareState

#: the adapter's read timeout here; ``Fault.TIMEOUT`` answers after three times that
READ_TIMEOUT = 0.5

_FAULTS: dict[Fault, tuple[str, dict[str, Any]]] = {
    Fault.SERVER_ERROR: ("500", {}),
    Fault.GATEWAY_PAGE: ("gateway", {}),
    Fault.RATE_LIMITED: ("429", {}),
    Fault.UNAUTHORIZED: ("401", {}),
    Fault.FORBIDDEN: ("403", {}),
    # facturare.md's documented refusal of invalid parameters is a 400
    Fault.INVALID: ("400", {}),
    Fault.TIMEOUT: ("slow", {"delay": 3 * READ_TIMEOUT}),
    Fault.DROP_AFTER_CREATE: ("drop_after_create", {}),
    Fault.UNREADABLE: ("malformed", {}),
}


def invoices_of_order(state: FacturareState, order_id: int, *,
                      account: str = DEMO_API_KEY) -> list[dict[str, Any]]:
    """The invoices the simulator holds for ``order_id`` (any shop), by our metadata key."""
    suffix = f":{order_id}"
    return [stored.obj for stored in state.all_objects("invoices")
            if stored.account == account
            and str(stored.obj["metadata"].get(facturare.ORDER_KEY, "")).endswith(suffix)]


@dataclass
class _RunningFacturare:
    adapter: FacturareUpstream
    simulator: RunningSimulator

    def inject(self, fault: Fault, *, retry_after: int = 7) -> None:
        kind, options = _FAULTS[fault]
        if fault is Fault.RATE_LIMITED:
            options = {"retry_after": retry_after}
        self.simulator.state.add_fault(kind, times=1, **options)

    def invoice_count(self, order_id: int) -> int:
        return len(invoices_of_order(self.simulator.state, order_id))


@contextmanager
def _start() -> Iterator[_RunningFacturare]:
    with run_simulator(state=FacturareState(customer_faults=False)) as simulator:
        adapter = FacturareUpstream(FacturareSettings(
            base_url=simulator.url, api_key=DEMO_API_KEY, connect_timeout=2.0,
            read_timeout=READ_TIMEOUT))
        try:
            yield _RunningFacturare(adapter, simulator)
        finally:
            adapter.close()


FACTURARE_HARNESS = Harness(kind="facturare", start=_start)
