"""The port every invoicing service adapter implements.

An adapter does little: it declares what its service cannot take (``rules``), ``render``s an
upstream-neutral ``InvoiceDraft`` into the body its API wants (without credentials -- that
body is stored on the sync row and shown to operators), and ``create_invoice`` from such a
body. Failures are raised as the ``bridge.errors`` upstream families, already classified
(transient or permanent, ambiguous or not; ``bridge.upstreams.failures``), so the dispatcher
never looks at HTTP details.

One capability is optional: ``find_invoice``. A service that can look an invoice up by our
own key (the shop and order it was made for) lets the dispatcher settle every unknown
outcome by itself -- after a timeout or a dropped connection it asks before it sends again
-- instead of stopping the row for a person (docs/guarantees.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bridge.mapping.draft import DraftRules, InvoiceDraft


@dataclass(frozen=True)
class InvoiceRef:
    """What the upstream told us about the invoice it holds for an order."""

    invoice_id: str | None
    invoice_number: str | None = None
    #: the upstream already had an invoice for this order (a repeated send said so, or a
    #: lookup found it)
    existed: bool = False
    http_status: int | None = None
    #: found by ``find_invoice`` rather than returned by a create
    looked_up: bool = False


@runtime_checkable
class InvoiceUpstream(Protocol):
    #: the plug-in's kind, stored on sync rows ("econt")
    kind: str
    #: what the service cannot take; mapping checks it with everything else
    rules: DraftRules

    @property
    def dedupes_repeats(self) -> bool:
        """True when sending the same order again is known not to create a second invoice."""
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


@runtime_checkable
class FindsInvoices(Protocol):
    """The optional capability: look up the invoice made from ``payload`` (by the shop and
    order key the adapter put in it). Returns None when there is none; creates nothing."""

    def find_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef | None:
        ...


def invoice_finder(upstream: InvoiceUpstream) -> FindsInvoices | None:
    return upstream if isinstance(upstream, FindsInvoices) else None


def settles_unknown_outcomes(upstream: InvoiceUpstream) -> bool:
    """After an answer that never came (or could not be read), may the dispatcher simply go
    on? Yes if the service folds repeated sends, or if it can be asked whether the invoice
    exists; otherwise a person must look (``review``)."""
    return upstream.dedupes_repeats or invoice_finder(upstream) is not None
