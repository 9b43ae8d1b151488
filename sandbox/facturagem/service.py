"""The FACTURAgem simulator as a ``SimulatedService`` (demo, fault suite) and the sandbox's
entry for it (``FACTURAGEM_SANDBOX``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.contract import SimulatedInvoice, UpstreamSandbox
from sandbox.facturagem.command import facturagem_command
from sandbox.facturagem.config import facturagem_upstream
from sandbox.facturagem.harness import FACTURAGEM_HARNESS
from sandbox.facturagem.server import RunningSimulator, run_simulator
from sandbox.facturagem.state import DEMO_ACCOUNT_ID, FacturagemState


@dataclass
class FacturagemService:
    simulator: RunningSimulator

    @property
    def url(self) -> str:
        return self.simulator.url

    def upstream_section(self, **options: Any) -> dict[str, Any]:
        return facturagem_upstream(self.url, **options)

    def add_fault(self, kind: str, **options: Any) -> object:
        return self.simulator.state.add_fault(kind, **options)

    def held_orders(self, *, for_at_least: float = 0.0) -> list[Any]:
        # a held login or account change belongs to no order
        return [order for order in self.simulator.state.held_orders(for_at_least=for_at_least)
                if order is not None]

    def fault_counts(self) -> dict[str, int]:
        return self.simulator.state.fault_counts()

    def invoices(self) -> list[SimulatedInvoice]:
        state = self.simulator.state
        account = state.account(DEMO_ACCOUNT_ID)
        currency = account.currency if account is not None else "EUR"
        return [SimulatedInvoice(
            order_id=invoice.order_id, invoice_id=str(invoice.id), number=invoice.number,
            total=invoice.total, currency=str(invoice.fields.get("currency") or currency),
            lines=len(invoice.lines),
            lines_total=sum((line["total"] for line in invoice.lines), Decimal(0)))
            for invoice in state.invoices(DEMO_ACCOUNT_ID) if invoice.order_id is not None]


@contextmanager
def start_service(*, repeats: str = "create_new", latency: float = 0.0
                  ) -> Iterator[FacturagemService]:
    """``repeats`` is ignored: FACTURAgem can only create (a repeat is another invoice)."""
    del repeats
    with run_simulator(state=FacturagemState(latency=latency)) as simulator:
        yield FacturagemService(simulator)


FACTURAGEM_SANDBOX = UpstreamSandbox(kind="facturagem", title="FACTURAgem", start=start_service,
                                     harness=FACTURAGEM_HARNESS, command=facturagem_command)
