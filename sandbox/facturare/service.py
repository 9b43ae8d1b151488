"""The facturare.md simulator as a ``SimulatedService`` (demo, fault suite) and the
sandbox's entry for it (``FACTURARE_SANDBOX``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.upstreams.facturare import assumptions as facturare
from sandbox.contract import SimulatedInvoice, UpstreamSandbox
from sandbox.facturare.command import facturare_command
from sandbox.facturare.config import facturare_upstream
from sandbox.facturare.harness import FACTURARE_HARNESS
from sandbox.facturare.server import RunningSimulator, run_simulator
from sandbox.facturare.state import DEMO_API_KEY, FacturareState


@dataclass
class FacturareService:
    simulator: RunningSimulator

    @property
    def url(self) -> str:
        return self.simulator.url

    def upstream_section(self, **options: Any) -> dict[str, Any]:
        return facturare_upstream(self.url, **options)

    def add_fault(self, kind: str, **options: Any) -> object:
        return self.simulator.state.add_fault(kind, **options)

    def held_orders(self, *, for_at_least: float = 0.0) -> list[Any]:
        return self.simulator.state.held_orders(for_at_least=for_at_least)

    def fault_counts(self) -> dict[str, int]:
        return self.simulator.state.fault_counts()

    def invoices(self) -> list[SimulatedInvoice]:
        """The demo business's invoices that carry our order key."""
        return [invoice for invoice in (
            simulated_invoice(stored.obj) for stored in
            self.simulator.state.all_objects("invoices") if stored.account == DEMO_API_KEY)
            if invoice is not None]


def simulated_invoice(invoice: dict[str, Any]) -> SimulatedInvoice | None:
    """An invoice as the demo and the fault suite count it; None without our order key."""
    key = invoice["metadata"].get(facturare.ORDER_KEY)
    order = key.rpartition(":")[2] if isinstance(key, str) else ""
    if not order.isdigit():
        return None
    # what the lines add up to, computed afresh from the lines (the service's "total" is
    # what the invoice asks the buyer to pay)
    lines_total = sum((item["amount"] + sum((tax["amount"] for tax in item["taxes"]
                                              if not tax["inclusive"]), Decimal(0))
                       for item in invoice["items"]), Decimal(0))
    return SimulatedInvoice(order_id=int(order), invoice_id=str(invoice["id"]),
                            number=invoice["number"], total=invoice["total"],
                            currency=invoice["currency"].upper(), lines=len(invoice["items"]),
                            lines_total=lines_total)


@contextmanager
def start_service(*, repeats: str = "create_new",
                  latency: float = 0.0) -> Iterator[FacturareService]:
    """``repeats`` is ignored: facturare.md (as assumed) always creates a new invoice, and
    the adapter looks invoices up instead."""
    with run_simulator(state=FacturareState(latency=latency)) as simulator:
        yield FacturareService(simulator)


FACTURARE_SANDBOX = UpstreamSandbox(kind="facturare", title="facturare.md",
                                    start=start_service, harness=FACTURARE_HARNESS,
                                    command=facturare_command)
