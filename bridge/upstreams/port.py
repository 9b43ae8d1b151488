"""The port every invoicing service adapter implements.

An adapter does little: it declares what its service cannot take (``rules``), ``render``s an
upstream-neutral ``InvoiceDraft`` into the body its API wants (without credentials -- that
body is stored on the sync row and shown to operators), and ``create_invoice`` from such a
body. Failures are raised as the ``bridge.errors`` upstream families, already classified
(transient or permanent, ambiguous or not; ``bridge.upstreams.failures``), so the dispatcher
never looks at HTTP details.

Optional capabilities, each a small protocol an adapter implements if its service can:

- ``find_invoice``: look an invoice up by our own key (the shop and order it was made for).
  The dispatcher then settles every unknown outcome by itself -- after a timeout or a
  dropped connection it asks before it sends again -- instead of stopping the row for a
  person (docs/guarantees.md).
- ``record_payment`` / ``find_payment``: record that an invoiced order was paid, once.
- ``cancel_invoice`` / ``find_cancellation``: cancel an invoice whose order was cancelled.
- ``correct_invoice`` / ``find_correction``: issue a correction document for a refund.

Each follow-up action comes with its ``find_*`` so that an action whose answer was lost is
looked up, never simply sent again (a second payment, a second correction). Follow-up
actions run as tasks of their own (``bridge.dispatch``), after the invoice exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
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


# --- follow-up actions on an invoice ------------------------------------------------------


@dataclass(frozen=True)
class ActionRef:
    """What the upstream said about a follow-up action."""

    #: its id there (a payment id, a correction document's id), if it gave one
    reference: str | None = None
    #: it had already been done (the service said so, or a lookup found it)
    existed: bool = False
    http_status: int | None = None


@dataclass(frozen=True)
class PaymentRequest:
    #: the upstream's invoice id (from the sync row)
    invoice_id: str
    amount: Decimal
    currency: str
    paid_on: date
    #: our key for this payment ("shop:order"), for services that can store one
    key: str
    #: WooCommerce's gateway id and title ("bacs", "Direct bank transfer")
    method: str = ""
    method_title: str = ""


@dataclass(frozen=True)
class CancelRequest:
    invoice_id: str
    key: str
    reason: str


@dataclass(frozen=True)
class CorrectionRequest:
    """A correction document for a refund of an invoiced order."""

    invoice_id: str
    #: our key for this correction ("shop:order:refund id")
    key: str
    refund_id: int
    #: refunded, positive, in the invoice's currency
    amount: Decimal
    currency: str
    reason: str
    #: the order as it was invoiced (lines, VAT rates), for services that correct per line
    draft: InvoiceDraft


@runtime_checkable
class RecordsPayments(Protocol):
    def record_payment(self, payment: PaymentRequest) -> ActionRef:
        ...

    def find_payment(self, payment: PaymentRequest) -> ActionRef | None:
        """The payment if the upstream already holds it (or the invoice is paid); creates
        nothing."""
        ...


@runtime_checkable
class CancelsInvoices(Protocol):
    def cancel_invoice(self, cancel: CancelRequest) -> ActionRef:
        ...

    def find_cancellation(self, cancel: CancelRequest) -> ActionRef | None:
        ...


@runtime_checkable
class CorrectsInvoices(Protocol):
    def correct_invoice(self, correction: CorrectionRequest) -> ActionRef:
        ...

    def find_correction(self, correction: CorrectionRequest) -> ActionRef | None:
        ...


def invoice_finder(upstream: InvoiceUpstream) -> FindsInvoices | None:
    return upstream if isinstance(upstream, FindsInvoices) else None


def settles_unknown_outcomes(upstream: InvoiceUpstream) -> bool:
    """After an answer that never came (or could not be read), may the dispatcher simply go
    on? Yes if the service folds repeated sends, or if it can be asked whether the invoice
    exists; otherwise a person must look (``review``)."""
    return upstream.dedupes_repeats or invoice_finder(upstream) is not None
