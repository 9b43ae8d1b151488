"""What every upstream's stand-in offers the port's contract suite (tests/contract/).

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
from enum import StrEnum
from typing import Protocol

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
    #: the real adapter, pointed at the simulated service (its read timeout is short, so
    #: ``Fault.TIMEOUT`` does not hold a test up)
    adapter: InvoiceUpstream

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
