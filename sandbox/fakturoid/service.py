"""The Fakturoid simulator as a ``SimulatedService`` (demo, fault suite) and the sandbox's
entry for it (``FAKTUROID_SANDBOX``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.upstreams.fakturoid import assumptions as fak
from sandbox.contract import SimulatedInvoice, UpstreamSandbox
from sandbox.fakturoid.command import fakturoid_command
from sandbox.fakturoid.config import fakturoid_upstream
from sandbox.fakturoid.harness import FAKTUROID_HARNESS
from sandbox.fakturoid.records import Invoice
from sandbox.fakturoid.server import RunningSimulator, run_simulator
from sandbox.fakturoid.state import DEMO_SLUG, SimulatorState

#: the demo and the fault suite send hundreds of requests a minute on purpose; their
#: simulator allows that many (``invoice-bridge sandbox fakturoid`` keeps the documented 400)
SUITE_RATE_QUOTA = 100_000
SUITE_FAULT_TARGETS = ("subjects", "invoices")


@dataclass
class FakturoidService:
    simulator: RunningSimulator

    @property
    def url(self) -> str:
        return self.simulator.url

    def upstream_section(self, **options: Any) -> dict[str, Any]:
        return fakturoid_upstream(self.url, **options)

    def add_fault(self, kind: str, **options: Any) -> object:
        return self.simulator.state.add_fault(kind, **options)

    def held_orders(self, *, for_at_least: float = 0.0) -> list[Any]:
        # a held answer of a registered customer's contact belongs to no order
        return [order for order in self.simulator.state.held_orders(for_at_least=for_at_least)
                if order is not None]

    def fault_counts(self) -> dict[str, int]:
        return self.simulator.state.fault_counts()

    def invoices(self) -> list[SimulatedInvoice]:
        found = []
        for invoice in self.simulator.state.invoices(DEMO_SLUG):
            order = fak.order_of_invoice_key(invoice.custom_id)
            if order is not None and invoice.document_type == fak.DOCUMENT_INVOICE:
                found.append(simulated(invoice, order[1]))
        return found


def simulated(invoice: Invoice, order_id: int) -> SimulatedInvoice:
    return SimulatedInvoice(
        order_id=order_id, invoice_id=str(invoice.id), number=invoice.number,
        total=invoice.total, currency=invoice.currency, lines=len(invoice.lines),
        lines_total=sum((line.totals[2] for line in invoice.lines), Decimal(0)))


@contextmanager
def start_service(*, repeats: str = "create_new", latency: float = 0.0
                  ) -> Iterator[FakturoidService]:
    """``repeats`` is ignored: [ASSUMPTION] Fakturoid creates a new invoice for a repeated
    custom_id, whatever the bridge is told. Faults hit contacts and invoices -- what the
    fault suite counts and kills a worker in the middle of (a held payment would hold no
    invoice's lease); payments and events meet faults in the contract suite and
    tests/integration/test_fakturoid_actions.py."""
    state = SimulatorState(latency=latency, rate_quota=SUITE_RATE_QUOTA,
                           fault_targets=SUITE_FAULT_TARGETS)
    with run_simulator(state=state) as simulator:
        yield FakturoidService(simulator)


FAKTUROID_SANDBOX = UpstreamSandbox(kind="fakturoid", title="Fakturoid", start=start_service,
                                    harness=FAKTUROID_HARNESS, command=fakturoid_command)
