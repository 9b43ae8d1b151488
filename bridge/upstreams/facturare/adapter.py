"""The facturare.md adapter: an order becomes a customer (found or created) and an invoice for
it; an order that became paid, a payment on that invoice.

Strategy against duplicate invoices (docs/guarantees.md explains it for operators): the
invoice carries our key for the order, ``metadata[invoice_bridge_order] = "shop:order id"``,
and facturare.md documents an exact-match filter on metadata. So ``find_invoice`` asks
``GET /invoices?metadata[invoice_bridge_order]=...``, and the dispatcher looks every order
that was sent before up first: an answer that never came (a timeout, a dropped connection, a
gateway's page) settles itself, without a second invoice and without a person. facturare.md
is not documented to refuse a repeated invoice, so ``dedupes_repeats`` is False.

Payments work the same way: ``metadata[invoice_bridge_payment]`` on the payment, and
``find_payment`` by it (or by the invoice being paid already). Cancelling and correcting are
not offered: facturare.md documents no way to void an invoice or to issue a credit note.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from bridge.errors import UpstreamRejected
from bridge.mapping.draft import DraftRules, InvoiceDraft
from bridge.upstreams.facturare import assumptions as facturare
from bridge.upstreams.facturare.api import FacturareApi, object_id, oldest
from bridge.upstreams.facturare.customers import Customers
from bridge.upstreams.facturare.render import render_payload
from bridge.upstreams.facturare.settings import FacturareSettings
from bridge.upstreams.http import HttpClient
from bridge.upstreams.port import ActionRef, InvoiceRef, PaymentRequest


class FacturareUpstream:
    kind = "facturare"
    rules = DraftRules(required={"billing.email": facturare.EMAIL_REQUIRED_REASON})

    def __init__(self, settings: FacturareSettings, *, http: HttpClient | None = None) -> None:
        self.settings = settings
        timeout = settings.timeouts
        self.http = http or HttpClient(connect_timeout=timeout[0], read_timeout=timeout[1])
        self.api = FacturareApi(self.http, settings.base_url, settings.api_key, timeout)
        self.customers = Customers(self.api)

    @property
    def dedupes_repeats(self) -> bool:
        return False  # assumptions.REPEATS_CREATE_NEW; find_invoice settles repeats instead

    def render(self, draft: InvoiceDraft) -> dict[str, Any]:
        return render_payload(draft)

    # --- invoices -----------------------------------------------------------------------

    def create_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef:
        customer_id = self.customers.customer_id(_part(payload, "customer"))
        body = {**_part(payload, "invoice"), facturare.INVOICE_CUSTOMER_FIELD: customer_id}
        invoice, status = self.api.create(facturare.INVOICES_PATH, body)
        return InvoiceRef(invoice_id=object_id(invoice), invoice_number=_text(
            invoice.get(facturare.NUMBER_FIELD)), http_status=status)

    def find_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef | None:
        key = _metadata_key(_part(payload, "invoice"), facturare.ORDER_KEY)
        found = self.api.list(facturare.INVOICES_PATH,
                              {facturare.METADATA_PARAM.format(facturare.ORDER_KEY): key})
        # Several would mean someone made one by hand with our key: the oldest is ours.
        first = oldest(found)
        if first is None:
            return None
        return InvoiceRef(invoice_id=object_id(first),
                          invoice_number=_text(first.get(facturare.NUMBER_FIELD)),
                          existed=True, http_status=200, looked_up=True)

    # --- payments -----------------------------------------------------------------------

    def record_payment(self, payment: PaymentRequest) -> ActionRef:
        """Record ``payment`` against its invoice, unless the invoice is paid already (by
        us, or by hand in facturare.md): a payment is never recorded twice."""
        invoice = self._invoice(payment.invoice_id)
        if invoice.get(facturare.INVOICE_PAID_FIELD) is True:
            return ActionRef(reference=None, existed=True, http_status=200)
        customer = invoice.get(facturare.INVOICE_CUSTOMER_FIELD)
        if isinstance(customer, Mapping):  # expanded by a service that always expands
            customer = customer.get(facturare.ID_FIELD)
        body: dict[str, Any] = {
            "customer": customer,
            "invoice": invoice[facturare.ID_FIELD],
            "amount": facturare.decimal_text(payment.amount),
            "currency": payment.currency.lower(),
            "date": payment_timestamp(payment),
            "method": facturare.PAYMENT_METHODS_BY_GATEWAY.get(payment.method, "other"),
            "metadata": {facturare.PAYMENT_KEY: payment.key},
        }
        if payment.method_title:
            body["notes"] = payment.method_title
        created, status = self.api.create(facturare.PAYMENTS_PATH, body)
        return ActionRef(reference=object_id(created), http_status=status)

    def find_payment(self, payment: PaymentRequest) -> ActionRef | None:
        found = self.api.list(facturare.PAYMENTS_PATH,
                              {facturare.METADATA_PARAM.format(facturare.PAYMENT_KEY):
                               payment.key})
        first = oldest(found)
        if first is not None:
            return ActionRef(reference=object_id(first), existed=True, http_status=200)
        if self._invoice(payment.invoice_id).get(facturare.INVOICE_PAID_FIELD) is True:
            return ActionRef(reference=None, existed=True, http_status=200)
        return None

    def _invoice(self, invoice_id: str) -> dict[str, Any]:
        if not invoice_id.isdigit():
            raise UpstreamRejected(f"invoice id {invoice_id[:40]!r} is not a facturare.md "
                                   "invoice id (an integer)")
        invoice = self.api.read(facturare.invoice_path(invoice_id))
        if invoice is None:
            raise UpstreamRejected(f"facturare.md has no invoice {invoice_id} (deleted?)",
                                   http_status=404)
        return invoice

    # --- the rest of the port -----------------------------------------------------------

    def check_credentials(self) -> str:
        """``GET /customers?per_page=1`` (assumptions.CREDENTIALS_PROBE_PARAMS): it reads,
        creates nothing, and answers 401 for a key facturare.md does not accept."""
        self.api.list(facturare.CUSTOMERS_PATH, facturare.CREDENTIALS_PROBE_PARAMS)
        return f"API key accepted by {self.settings.base_url}"

    def close(self) -> None:
        self.http.close()


def payment_timestamp(payment: PaymentRequest) -> int:
    """[ASSUMPTION] noon UTC of the day it was paid (assumptions.PAYMENT_HOUR_UTC)."""
    noon = time(hour=facturare.PAYMENT_HOUR_UTC, tzinfo=UTC)
    return int(datetime.combine(payment.paid_on, noon).timestamp())


def _part(payload: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    part = payload.get(name)
    if not isinstance(part, Mapping):
        raise UpstreamRejected(f"the stored request has no {name!r} object; resync the order")
    return part


def _metadata_key(part: Mapping[str, Any], key: str) -> str:
    metadata = part.get("metadata")
    value = metadata.get(key) if isinstance(metadata, Mapping) else None
    if not isinstance(value, str) or not value:
        raise UpstreamRejected(f"the stored request has no metadata.{key}; resync the order")
    return value


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
