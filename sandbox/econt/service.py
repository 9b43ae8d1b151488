"""The e-Cont.md simulator as a ``SimulatedService`` (demo, fault suite) and the sandbox's
entry for it (``ECONT_SANDBOX``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.contract import SimulatedInvoice, UpstreamSandbox
from sandbox.econt.command import econt_command
from sandbox.econt.config import econt_upstream
from sandbox.econt.harness import ECONT_HARNESS
from sandbox.econt.server import RunningSimulator, run_simulator
from sandbox.econt.state import DEMO_CLIENT_ID, SimulatorState


@dataclass
class EcontService:
    simulator: RunningSimulator

    @property
    def url(self) -> str:
        return self.simulator.url

    def upstream_section(self, **options: Any) -> dict[str, Any]:
        return econt_upstream(self.url, **options)

    def add_fault(self, kind: str, **options: Any) -> object:
        return self.simulator.state.add_fault(kind, **options)

    def held_orders(self, *, for_at_least: float = 0.0) -> list[Any]:
        return self.simulator.state.held_orders(for_at_least=for_at_least)

    def fault_counts(self) -> dict[str, int]:
        return self.simulator.state.fault_counts()

    def invoices(self) -> list[SimulatedInvoice]:
        return [_invoice(record.order_id, record.hash, record.number, record.body)
                for record in self.simulator.state.invoices(account=DEMO_CLIENT_ID)]


def _invoice(order_id: int, invoice_id: str, number: str,
             body: dict[str, Any]) -> SimulatedInvoice:
    order, items = body["order"], body["items"]
    return SimulatedInvoice(
        order_id=order_id, invoice_id=invoice_id, number=number,
        total=Decimal(str(order["amount"])), currency=order["currency"], lines=len(items),
        lines_total=sum((Decimal(str(item["line_total"])) for item in items.values()),
                        Decimal(0)))


@contextmanager
def start_service(*, repeats: str = "reject", latency: float = 0.0) -> Iterator[EcontService]:
    state = SimulatorState(repeated_order=repeats, latency=latency)
    with run_simulator(state=state) as simulator:
        yield EcontService(simulator)


ECONT_SANDBOX = UpstreamSandbox(kind="econt", title="e-Cont.md", start=start_service,
                                harness=ECONT_HARNESS, command=econt_command)
