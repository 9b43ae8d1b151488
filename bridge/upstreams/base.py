"""The interface every invoicing service adapter implements.

An adapter does two things: ``render`` an upstream-neutral ``InvoiceDraft`` into the body its
API wants (without credentials -- that body is stored on the sync row and shown to operators),
and ``create_invoice`` from such a body. Failures are raised as the ``bridge.errors`` upstream
families, already classified (transient or permanent, ambiguous or not), so the dispatcher
never looks at HTTP details: every answer that is not a success goes through
``bridge.upstreams.failures.failure_from_answer``, told whether the body was the service's
own error answer -- nothing else proves that nothing was created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bridge.mapping.draft import InvoiceDraft


@dataclass(frozen=True)
class InvoiceRef:
    """What the upstream told us about the invoice it holds for an order."""

    invoice_id: str | None
    invoice_number: str | None = None
    #: the upstream said it already had an invoice for this order (a repeated send)
    existed: bool = False
    http_status: int | None = None


class InvoiceUpstream(Protocol):
    #: short name stored on sync rows ("econt")
    kind: str

    @property
    def dedupes_repeats(self) -> bool:
        """True when sending the same order again is known not to create a second invoice.

        Decides what happens after an ambiguous failure (timeout, dropped connection, a
        worker killed mid-request): retry automatically, or stop for a person to check.
        """
        ...

    def render(self, draft: InvoiceDraft) -> dict[str, Any]:
        """The request body for ``draft``, without credentials. Raises ``MappingError``."""
        ...

    def create_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef:
        """Send ``payload`` (from ``render``). Raises an ``UpstreamError`` subclass."""
        ...

    def check_credentials(self) -> str:
        """Check that the upstream answers and accepts our credentials, creating nothing.
        Returns a short description; raises an ``UpstreamError`` subclass."""
        ...

    def close(self) -> None:
        ...
