"""The Fakturoid (API v3) adapter: subjects, invoices, payments, cancellations, corrections.

Strategy against duplicate invoices (docs/fakturoid.md explains it for operators): every
invoice carries our key as ``custom_id`` ("<shop>:<order id>"). Fakturoid does not make it
unique ([ASSUMPTION], ``assumptions.INVOICE_CUSTOM_ID_UNIQUE``), so a repeated create is a
second invoice; but Fakturoid can be asked for invoices by ``custom_id``, so the adapter
offers ``find_invoice`` and the dispatcher looks every row sent before up first: an unknown
outcome (a timeout, a dropped connection, a gateway's page) settles itself, never a second
invoice and never a row for a person.

Creating an invoice is two steps: the buyer's subject (found by its ``custom_id`` or
created), then the invoice. A failure of the first step cannot have created an invoice, so
it is never ambiguous.

Follow-up actions, each with a lookup that creates nothing:

- payments: ``POST .../payments.json``; found when the invoice is paid or holds a payment
  of the amount; a 403 "already paid" is the payment being there already;
- cancellation: ``fire.json?event=cancel``; found when the invoice is cancelled; a 422
  "cancel cannot be fired" is a clear, permanent refusal (some accounts cannot cancel);
- corrections: a ``correction`` document with ``correction_id`` and our key as
  ``custom_id``; found by that key.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.errors import (
    UpstreamAccountError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamRejected,
)
from bridge.mapping.draft import DraftRules, InvoiceDraft
from bridge.upstreams.fakturoid import assumptions as fak
from bridge.upstreams.fakturoid.api import (
    FakturoidApi,
    ensure_certain,
    record_id,
    same_key,
)
from bridge.upstreams.fakturoid.auth import TOKENS, TokenStore
from bridge.upstreams.fakturoid.render import render_correction, render_invoice
from bridge.upstreams.fakturoid.settings import FakturoidSettings
from bridge.upstreams.http import HttpClient
from bridge.upstreams.port import (
    ActionRef,
    CancelRequest,
    CorrectionRequest,
    InvoiceRef,
    PaymentRequest,
)


class FakturoidUpstream:
    kind = "fakturoid"
    #: Fakturoid needs nothing WooCommerce may leave out: a subject's only required field is
    #: its name, which falls back to the e-mail or the order number
    rules = DraftRules()

    def __init__(self, settings: FakturoidSettings, *, http: HttpClient | None = None,
                 tokens: TokenStore = TOKENS) -> None:
        self.settings = settings
        timeout = settings.timeouts
        self.http = http or HttpClient(connect_timeout=timeout[0], read_timeout=timeout[1])
        self.api = FakturoidApi(settings, self.http, tokens)

    @property
    def dedupes_repeats(self) -> bool:
        return False

    def render(self, draft: InvoiceDraft) -> dict[str, Any]:
        return render_invoice(draft, self.settings)

    # --- invoices -----------------------------------------------------------------------

    def create_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef:
        subject_id = self._subject_id(payload["subject"])
        body = {**payload["invoice"], "subject_id": subject_id}
        response = self.api.create(fak.INVOICES_PATH, body, what="creating the invoice")
        invoice = self.api.created(response, what="creating the invoice")
        return InvoiceRef(invoice_id=record_id(invoice), invoice_number=_text(invoice,
                                                                              "number"),
                          http_status=response.status_code)

    def find_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef | None:
        key = payload["invoice"]["custom_id"]
        found = [record for record in self._documents(key)
                 if record.get("document_type", fak.DOCUMENT_INVOICE) == fak.DOCUMENT_INVOICE]
        if not found:
            return None
        first = found[0]  # after duplicates made by hand, the earliest is the order's
        return InvoiceRef(invoice_id=record_id(first), invoice_number=_text(first, "number"),
                          existed=True, http_status=200, looked_up=True)

    def _documents(self, key: str, **filters: str) -> list[dict[str, Any]]:
        records = self.api.find_all(fak.INVOICES_PATH, what="looking the invoice up",
                                    params={"custom_id": key, **filters})
        return same_key(records, key)

    def _subject_id(self, subject: Mapping[str, Any]) -> int:
        """The subject with our ``custom_id``, created if there is none. Nothing here can
        create an invoice, so no failure of it is ambiguous."""
        what = "the buyer's contact (no invoice was sent)"
        try:
            found = self._find_subject(subject["custom_id"])
            if found is not None:
                return found
            try:
                response = self.api.create(fak.SUBJECTS_PATH, dict(subject),
                                           what="creating the buyer's contact")
                return int(self.api.created(response, what="creating the buyer's contact")
                           ["id"])
            except UpstreamRejected:
                # [ASSUMPTION] subject custom_id is unique: a 422 may mean another worker
                # (or a lost answer of ours) created it meanwhile
                found = self._find_subject(subject["custom_id"])
                if found is not None:
                    return found
                raise
        except UpstreamError as exc:
            raise ensure_certain(exc, what) from None

    def _find_subject(self, key: str) -> int | None:
        records = self.api.find_all(fak.SUBJECTS_PATH, what="looking the contact up",
                                    params={"custom_id": key})
        mine = same_key(records, key)
        return int(mine[0]["id"]) if mine else None

    def _invoice(self, invoice_id: str) -> dict[str, Any]:
        return self.api.get_object(fak.INVOICE_PATH.format(id=_path_id(invoice_id)),
                                   what=f"reading invoice {invoice_id}", one_invoice=invoice_id)

    # --- credentials --------------------------------------------------------------------

    def check_credentials(self) -> str:
        """A token (proves the Client ID and Secret) and the account's settings (prove the
        slug): reads only. Also says whether ``account_currency`` is the account's."""
        account = self.api.account()
        currency = account.get("currency")
        vat_mode = account.get("vat_mode") or "unknown VAT mode"
        summary = (f"credentials accepted by {self.settings.base_url}: account "
                   f"{self.settings.account_slug!r} ({account.get('name') or 'no name'}), "
                   f"currency {currency}, {vat_mode}")
        if isinstance(currency, str) and currency != self.settings.account_currency:
            raise UpstreamAccountError(
                f"{summary}; but account_currency is {self.settings.account_currency}: set it "
                f"to {currency} (invoices in {currency} need no exchange rate)")
        return summary

    # --- payments -----------------------------------------------------------------------

    def record_payment(self, payment: PaymentRequest) -> ActionRef:
        body = {"paid_on": payment.paid_on.isoformat(), "amount": f"{payment.amount:f}",
                "mark_document_as_paid": True}
        path = fak.PAYMENTS_PATH.format(id=_path_id(payment.invoice_id))
        try:
            response = self.api.create(path, body, what=f"paying invoice {payment.invoice_id}",
                                       one_invoice=payment.invoice_id)
        except UpstreamAuthError as exc:
            # [DOC] 403 "Payment cannot be added to already paid invoice": done already?
            if exc.http_status == 403 and not exc.ambiguous:
                found = self.find_payment(payment)
                if found is not None:
                    return found
            raise
        record = self.api.created(response, what=f"paying invoice {payment.invoice_id}")
        return ActionRef(reference=record_id(record), http_status=response.status_code)

    def find_payment(self, payment: PaymentRequest) -> ActionRef | None:
        """The invoice is paid, or holds a payment of this amount (Fakturoid keeps no key of
        ours on a payment)."""
        invoice = self._invoice(payment.invoice_id)
        payments = [item for item in invoice.get("payments") or [] if isinstance(item, dict)]
        for item in payments:
            if _decimal(item.get("amount")) == payment.amount and item.get("id") is not None:
                return ActionRef(reference=str(item["id"]), existed=True, http_status=200)
        if invoice.get("status") == fak.STATUS_PAID:
            last = payments[-1].get("id") if payments else None
            return ActionRef(reference=None if last is None else str(last), existed=True,
                             http_status=200)
        return None

    # --- cancellation -------------------------------------------------------------------

    def cancel_invoice(self, cancel: CancelRequest) -> ActionRef:
        path = fak.FIRE_PATH.format(id=_path_id(cancel.invoice_id))
        what = f"cancelling invoice {cancel.invoice_id}"
        try:
            response = self.api.call("POST", path, what=what, params={"event": fak.CANCEL_EVENT},
                                     expect=(204,), one_invoice=cancel.invoice_id)
        except UpstreamRejected as exc:
            if exc.http_status == 422 and not exc.ambiguous:
                found = self.find_cancellation(cancel)
                if found is not None:
                    return found
                raise UpstreamRejected(
                    f"{exc}. Fakturoid refuses to cancel this invoice (a VAT payer corrects an "
                    "invoice with a correction document instead; a paid invoice cannot be "
                    "cancelled)", http_status=422) from None
            raise
        return ActionRef(reference=cancel.invoice_id, http_status=response.status_code)

    def find_cancellation(self, cancel: CancelRequest) -> ActionRef | None:
        invoice = self._invoice(cancel.invoice_id)
        if invoice.get("status") == fak.STATUS_CANCELLED:
            return ActionRef(reference=cancel.invoice_id, existed=True, http_status=200)
        return None

    # --- corrections --------------------------------------------------------------------

    def correct_invoice(self, correction: CorrectionRequest) -> ActionRef:
        original = self._invoice(correction.invoice_id)
        body = render_correction(key=correction.key, invoice_id=correction.invoice_id,
                                 amount=correction.amount, reason=correction.reason,
                                 draft=correction.draft, original=original,
                                 settings=self.settings)
        what = f"correcting invoice {correction.invoice_id}"
        response = self.api.create(fak.INVOICES_PATH, body, what=what)
        record = self.api.created(response, what=what)
        return ActionRef(reference=record_id(record), http_status=response.status_code)

    def find_correction(self, correction: CorrectionRequest) -> ActionRef | None:
        found = [record for record in self._documents(correction.key,
                                                      document_type=fak.DOCUMENT_CORRECTION)
                 if record.get("document_type") == fak.DOCUMENT_CORRECTION]
        if not found:
            return None
        return ActionRef(reference=record_id(found[0]), existed=True, http_status=200)

    def close(self) -> None:
        self.http.close()


def _text(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    return None if value is None or value == "" else str(value)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _path_id(invoice_id: str) -> str:
    """An invoice id as it goes into a path: Fakturoid's ids are integers; anything else
    on a sync row is refused rather than put into a URL."""
    if not invoice_id.isascii() or not invoice_id.isdigit() or len(invoice_id) > 19:
        raise UpstreamRejected(f"not a Fakturoid invoice id: {invoice_id[:40]!r}")
    return invoice_id
