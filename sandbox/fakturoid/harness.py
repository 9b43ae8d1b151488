"""The Fakturoid adapter against this simulator, for the port's contract suite
(``sandbox.contract``). Faults hit the invoice, payment and event endpoints (a fresh
simulator has no subject yet, and the scenarios are about the invoice); a refused
credential is a 401 that a renewed token does not cure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.upstreams.fakturoid import assumptions as fak
from bridge.upstreams.fakturoid.adapter import FakturoidUpstream
from bridge.upstreams.fakturoid.auth import TokenStore
from bridge.upstreams.fakturoid.settings import FakturoidSettings
from sandbox.contract import Fault, Harness
from sandbox.fakturoid.server import RunningSimulator, run_simulator
from sandbox.fakturoid.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SLUG,
    DEMO_USER_AGENT,
    SimulatorState,
)

#: the adapter's read timeout here; ``Fault.TIMEOUT`` answers after three times that
READ_TIMEOUT = 0.5

_FAULTS: dict[Fault, tuple[str, dict[str, Any]]] = {
    Fault.SERVER_ERROR: ("500", {}),
    Fault.GATEWAY_PAGE: ("gateway", {}),
    Fault.RATE_LIMITED: ("429", {}),
    # the first 401 makes the adapter renew its token and send again; the second is final
    Fault.UNAUTHORIZED: ("401", {"times": 2}),
    Fault.FORBIDDEN: ("403", {}),
    Fault.INVALID: ("422", {}),
    Fault.TIMEOUT: ("slow", {"delay": 3 * READ_TIMEOUT}),
    Fault.DROP_AFTER_CREATE: ("drop_after_create", {}),
    Fault.UNREADABLE: ("malformed", {}),
}


def adapter_settings(url: str, **options: Any) -> FakturoidSettings:
    """Settings of an adapter pointed at a simulator at ``url`` (the demo account)."""
    values: dict[str, Any] = {
        "base_url": url, "account_slug": DEMO_SLUG, "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET, "user_agent": DEMO_USER_AGENT,
        "exchange_rates": (("EUR", Decimal("24.35")), ("MDL", Decimal("1.31"))),
        "connect_timeout": 2.0, "read_timeout": READ_TIMEOUT}
    return FakturoidSettings(**{**values, **options})


@dataclass
class _RunningFakturoid:
    adapter: FakturoidUpstream
    simulator: RunningSimulator

    def inject(self, fault: Fault, *, retry_after: int = 7) -> None:
        kind, options = _FAULTS[fault]
        options = {"times": 1, **options}
        if fault is Fault.RATE_LIMITED:
            options["retry_after"] = retry_after
        self.simulator.state.add_fault(kind, **options)

    def invoice_count(self, order_id: int) -> int:
        return sum(1 for invoice in self.simulator.state.invoices(DEMO_SLUG)
                   if invoice.document_type == fak.DOCUMENT_INVOICE
                   and (fak.order_of_invoice_key(invoice.custom_id) or ("", 0))[1] == order_id)


@contextmanager
def _start() -> Iterator[_RunningFakturoid]:
    state = SimulatorState(fault_targets=("invoices", "payments", "events"))
    with run_simulator(state=state) as simulator:
        adapter = FakturoidUpstream(adapter_settings(simulator.url), tokens=TokenStore())
        try:
            yield _RunningFakturoid(adapter, simulator)
        finally:
            adapter.close()


FAKTUROID_HARNESS = Harness(kind="fakturoid", start=_start)
