"""The FACTURAgem adapter: invoices (with their clients) and payments, each of which can be
looked up again, so an answer that never came settles itself instead of stopping for a person.

Creating an invoice: find the buyer's client (or create it), then POST the invoice with the
client's id. FACTURAgem refuses or folds no repeated invoice (nothing in its documentation
says it would), so the key that prevents a second one is ours: the invoice's notes begin with
"Ref. pedido: shop:order" (``assumptions.REFERENCE_PREFIX``), and ``find_invoice`` reads the
invoices of the buyer's clients until it finds that line. The dispatcher calls it before
sending any order a second time (docs/guarantees.md).

Only a failure of the invoice's own POST can leave an invoice behind; a failure while the
client is found or created cannot, so it is never reported as an unknown outcome.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.errors import (
    UpstreamBadResponse,
    UpstreamEndpointError,
    UpstreamError,
    UpstreamRejected,
)
from bridge.mapping.draft import DraftRules, InvoiceDraft
from bridge.upstreams.facturagem import assumptions
from bridge.upstreams.facturagem.answers import failure, json_body, resource_id
from bridge.upstreams.facturagem.api import FacturagemApi
from bridge.upstreams.facturagem.clients import Clients
from bridge.upstreams.facturagem.render import render_invoice
from bridge.upstreams.facturagem.settings import FacturagemSettings
from bridge.upstreams.http import HttpClient
from bridge.upstreams.port import ActionRef, InvoiceRef, PaymentRequest


class FacturagemUpstream:
    kind = "facturagem"
    #: a client is found again by its tax id or, for a buyer without one, by e-mail: without
    #: either, a lost answer could not be told from "no invoice yet"
    rules = DraftRules(required={"billing.email": "FACTURAgem clients are found again by tax "
                                                  "id or e-mail"})

    def __init__(self, settings: FacturagemSettings, *, http: HttpClient | None = None) -> None:
        self.settings = settings
        self.http = http or HttpClient(connect_timeout=settings.timeouts[0],
                                       read_timeout=settings.timeouts[1])
        self.api = FacturagemApi(settings, self.http)
        self.clients = Clients(self.api)

    @property
    def dedupes_repeats(self) -> bool:
        return False  # a repeated POST is another invoice; find_invoice prevents it

    def render(self, draft: InvoiceDraft) -> dict[str, Any]:
        return render_invoice(draft, self.settings)

    # --- invoices -------------------------------------------------------------------------

    def create_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef:
        with _no_invoice_yet():
            client_id = self.clients.find_or_create(payload["client"])
            path = self.api.path(assumptions.INVOICES_PATH)
        invoice = {"client_id": client_id, **payload["invoice"]}
        response = self.api.request("POST", path, body={assumptions.INVOICE_ROOT: invoice},
                                    changes=True)
        created = assumptions.unwrap(json_body(response), assumptions.INVOICE_ROOT)
        invoice_id = resource_id(created)
        if response.status_code == assumptions.SUCCESS_STATUS and invoice_id is not None:
            return InvoiceRef(invoice_id, invoice_number=_text(created.get(
                assumptions.NUMBER_FIELD)), http_status=response.status_code)
        raise failure(response, changes=True)

    def find_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef | None:
        """The invoice whose notes begin with this order's reference, among the invoices of
        every client that is this buyer; None if there is none. Creates nothing."""
        reference = str(payload["reference"])
        for client_id in self.clients.find_all(payload["client"]):
            path = self.api.path(assumptions.CLIENT_INVOICES_PATH, client=client_id)
            for summary in self.api.pages(path):
                invoice_id = resource_id(summary)
                if invoice_id is None:
                    raise UpstreamBadResponse("an invoice in the list has no usable id")
                invoice = summary if assumptions.NOTES_FIELD in summary \
                    else self._invoice(invoice_id)
                if assumptions.NOTES_FIELD not in invoice:
                    raise UpstreamBadResponse(
                        f"invoice {invoice_id} has no '{assumptions.NOTES_FIELD}' field: "
                        "invoices cannot be looked up (docs/facturagem.md)")
                if assumptions.reference_in_notes(invoice[assumptions.NOTES_FIELD]) \
                        == reference:
                    return InvoiceRef(invoice_id, invoice_number=_text(
                        invoice.get(assumptions.NUMBER_FIELD)), existed=True, http_status=200,
                        looked_up=True)
        return None

    def _invoice(self, invoice_id: str) -> Mapping[str, Any]:
        path = self.api.path(assumptions.INVOICE_PATH, invoice=invoice_id)
        invoice = assumptions.unwrap(self.api.get(path), assumptions.INVOICE_ROOT)
        if not isinstance(invoice, Mapping):
            raise UpstreamBadResponse(f"invoice {invoice_id} is not a JSON object")
        return invoice

    # --- payments -------------------------------------------------------------------------

    def record_payment(self, payment: PaymentRequest) -> ActionRef:
        """POST .../invoices/{id}/payments.json: the order's payment, in full."""
        path = self.api.path(assumptions.PAYMENTS_PATH, invoice=payment.invoice_id)
        body = {assumptions.PAYMENT_ROOT: {
            "amount": f"{payment.amount:f}",
            "date": payment.paid_on.strftime(assumptions.DATE_FORMAT)}}
        response = self.api.request("POST", path, body=body, changes=True)
        recorded = assumptions.unwrap(json_body(response), assumptions.PAYMENT_ROOT)
        if response.status_code == assumptions.SUCCESS_STATUS and isinstance(recorded, Mapping):
            return ActionRef(reference=resource_id(recorded), http_status=response.status_code)
        raise failure(response, changes=True, doing="recording the payment")

    def find_payment(self, payment: PaymentRequest) -> ActionRef | None:
        """The payment if the invoice is paid, or holds a payment of this amount on this
        date; None otherwise. Creates nothing."""
        try:
            invoice = self._invoice(payment.invoice_id)
        except UpstreamError as exc:
            if exc.http_status == 404 and not exc.ambiguous:
                raise UpstreamRejected(f"invoice {payment.invoice_id} is no longer in "
                                       f"FACTURAgem: {exc}", http_status=404) from None
            raise
        payments = invoice.get(assumptions.PAYMENTS_FIELD)
        payments = [p for p in payments if isinstance(p, Mapping)] \
            if isinstance(payments, list) else []
        date = payment.paid_on.strftime(assumptions.DATE_FORMAT)
        for recorded in payments:
            if _amount(recorded.get("amount")) == payment.amount and recorded.get("date") == date:
                return ActionRef(reference=resource_id(recorded), existed=True, http_status=200)
        if invoice.get(assumptions.PAID_FIELD) is True:
            last = resource_id(payments[-1]) if payments else None
            return ActionRef(reference=last, existed=True, http_status=200)
        return None

    # --- the account ----------------------------------------------------------------------

    def check_credentials(self) -> str:
        """Log in and read the account: proves the login, the password and the account,
        creating nothing (the session is kept, never ended)."""
        self.api.log_in_again()
        if self.settings.account_id:
            path = self.api.path(assumptions.ACCOUNT_PATH)
        else:
            path = assumptions.ACCOUNTS_PATH
        try:
            account = assumptions.unwrap(self.api.get(path), "account")
        except UpstreamEndpointError as exc:
            if not self.settings.account_id or exc.ambiguous:
                raise
            raise UpstreamEndpointError(
                f"account_id {self.settings.account_id!r} is not an account of this user "
                f"(leave it out to use the user's own): {exc}", http_status=404) from None
        if isinstance(account, list) and len(account) == 1:
            account = account[0]
        account_id = resource_id(account) or self.api.account_id()
        name = account.get("name") if isinstance(account, Mapping) else None
        named = f" ({str(name)[:80]})" if isinstance(name, str) and name else ""
        return f"logged in at {self.settings.base_url}; account {account_id}{named}"

    def close(self) -> None:
        self.http.close()  # the session stays open: ending it would log out every device


@contextmanager
def _no_invoice_yet() -> Iterator[None]:
    """Failures before the invoice's POST (login, client) cannot have left an invoice."""
    try:
        yield
    except UpstreamError as exc:
        exc.ambiguous = False
        raise


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
