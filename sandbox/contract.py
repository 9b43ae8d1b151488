"""What every upstream's stand-in in the sandbox offers.

``UpstreamSandbox`` (one per upstream, listed in ``sandbox.upstreams``) bundles:

- ``start``: a simulated service, running on loopback (``SimulatedService``): the
  ``[shops.upstream]`` section that points a bridge at it, the fault switches every
  simulator shares (``sandbox.kit.faults``), and the invoices it holds -- what the demo and
  the fault suite (tests/acceptance/fault_suite.py) drive;
- ``harness``: the port's contract suite's way in (below);
- ``command``: ``invoice-bridge sandbox KIND``.

The port's contract suite (tests/contract/):

A ``Harness`` starts a simulated service and hands back a ``RunningUpstream``: the real
adapter pointed at it, a way to make the service misbehave in the ways every invoicing API
can (``Fault``), and a count of the invoices it holds. The contract suite runs one set of
scenarios against every harness, so an adapter and its simulator either keep the port's
promises or the suite names the broken one. A new upstream joins with one harness here (next
to its simulator) and one line in the suite's list.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

import click

from bridge.upstreams.port import InvoiceUpstream


class Fault(StrEnum):
    #: the service's own error answer, 5xx: nothing was created
    SERVER_ERROR = "server_error"
    #: a gateway's HTML 502 in place of the answer, before the service processed anything
    GATEWAY_PAGE = "gateway_page"
    #: 429 with Retry-After
    RATE_LIMITED = "rate_limited"
    #: 401: the credentials are refused
    UNAUTHORIZED = "unauthorized"
    #: 403: the account may not do this
    FORBIDDEN = "forbidden"
    #: the service's validation refuses the invoice
    INVALID = "invalid"
    #: the answer comes after the client's read timeout (the invoice is created)
    TIMEOUT = "timeout"
    #: the connection closes after the invoice was created, with no answer
    DROP_AFTER_CREATE = "drop_after_create"
    #: the invoice is created and the answer cannot be read
    UNREADABLE = "unreadable"


class RunningUpstream(Protocol):
    @property
    def adapter(self) -> InvoiceUpstream:
        """The real adapter, pointed at the simulated service (its read timeout is short, so
        ``Fault.TIMEOUT`` does not hold a test up)."""
        ...

    def inject(self, fault: Fault, *, retry_after: int = 7) -> None:
        """Make the next request to the service misbehave."""
        ...

    def invoice_count(self, order_id: int) -> int:
        """Invoices the service holds for the order."""
        ...


@dataclass(frozen=True)
class Harness:
    #: the upstream's kind, for test ids
    kind: str
    start: Callable[[], AbstractContextManager[RunningUpstream]]


# --- a simulated service, for the demo and the fault suite ------------------------------


@dataclass(frozen=True)
class SimulatedInvoice:
    order_id: int
    invoice_id: str
    number: str | None = None
    #: what the invoice asks the buyer to pay, as the service computed it
    total: Decimal | None = None
    currency: str | None = None
    #: its lines, and what they add up to (as the service computed them)
    lines: int = 0
    lines_total: Decimal | None = None


class SimulatedService(Protocol):
    @property
    def url(self) -> str:
        ...

    def upstream_section(self, **options: Any) -> dict[str, Any]:
        """``[shops.upstream]`` for a bridge shop using this service (with credentials it
        accepts); ``options`` are further keys (``repeated_order``, ``rate_limit``, ...)."""
        ...

    def add_fault(self, kind: str, **options: Any) -> object:
        """Queue a fault (``sandbox.kit.faults``: a status, "reset", "slow", ...)."""
        ...

    def held_orders(self, *, for_at_least: float = 0.0) -> list[Any]:
        """Orders whose answer the service is holding back (a "slow" fault)."""
        ...

    def fault_counts(self) -> dict[str, int]:
        ...

    def invoices(self) -> list[SimulatedInvoice]:
        """Every invoice the service holds for the bridge's shop (several for an order
        means it was invoiced twice)."""
        ...


@dataclass(frozen=True)
class UpstreamSandbox:
    kind: str
    #: the service's name for people ("e-Cont.md")
    title: str
    #: start the service; ``repeats`` is what it does with a repeated order: "reject",
    #: "return_existing" or "create_new" (a service that can only create ignores it)
    start: Callable[..., AbstractContextManager[SimulatedService]]
    harness: Harness
    command: click.Command
