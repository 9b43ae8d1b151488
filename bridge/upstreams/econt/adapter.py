"""The e-Cont.md adapter: renders drafts into put/invoice bodies and sends them.

Strategy against duplicate invoices (docs/guarantees.md explains it for operators): the body
carries the WooCommerce order id as ``order.id``, which is stable across every retry of the
same order. Whether e-Cont.md uses it to refuse or fold a repeated put is undocumented, so
the shop's ``repeated_order`` setting says what to expect:

- ``reject`` or ``return_existing``: a repeat is harmless, so ambiguous failures are retried
  and the upstream's answer (duplicate / existing invoice) settles the row;
- ``unknown`` (default) or ``create_new``: a repeat could create a second invoice, so after an
  ambiguous failure the row stops in ``review`` for a person instead of being re-sent.

A failure is only "nothing was created" when e-Cont.md itself says so with its FAIL envelope
(``assumptions.is_error_envelope``); every other answer is ambiguous (``bridge.upstreams.
failures``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests

from bridge.mapping.draft import DraftRules, InvoiceDraft
from bridge.upstreams.econt import assumptions as econt
from bridge.upstreams.econt.render import render_invoice
from bridge.upstreams.econt.settings import EcontSettings
from bridge.upstreams.failures import failure_from_answer
from bridge.upstreams.http import HttpClient, parse_retry_after
from bridge.upstreams.port import InvoiceRef


class EcontUpstream:
    kind = "econt"
    #: e-Cont.md e-mails the invoice to the payer ([DOC]: billing.email is the one field the
    #: docs mark required) and takes whole quantities ([DOC]: product_qnt is an integer)
    rules = DraftRules(required={"billing.email": "e-Cont.md e-mails the invoice to this "
                                                  "address"},
                       whole_quantities=True)

    def __init__(self, settings: EcontSettings, *, http: HttpClient | None = None) -> None:
        self.settings = settings
        self.url = settings.base_url + econt.PUT_INVOICE_PATH
        self.timeout = settings.timeouts
        self.http = http or HttpClient(connect_timeout=self.timeout[0],
                                       read_timeout=self.timeout[1])

    @property
    def dedupes_repeats(self) -> bool:
        return self.settings.dedupes_repeats

    def render(self, draft: InvoiceDraft) -> dict[str, Any]:
        return render_invoice(draft)

    def request_body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        connect = {"client": self.settings.client_id, "token": self.settings.token,
                   "language": self.settings.language}
        return {"connect": connect, **payload}

    def create_invoice(self, payload: Mapping[str, Any]) -> InvoiceRef:
        response = self.http.post_json(self.url, self.request_body(payload), timeout=self.timeout)
        return interpret_response(response)

    def check_credentials(self) -> str:
        """Probe the keys with a put that has no order (see assumptions.PROBE_ACCEPTED_STATUS):
        it cannot create an invoice. Raises the usual upstream errors."""
        response = self.http.post_json(self.url, self.request_body({}), timeout=self.timeout)
        # e-Cont.md's own validation failure, not a gateway's 400 page: the keys passed.
        if (response.status_code == econt.PROBE_ACCEPTED_STATUS
                and econt.is_error_envelope(_json_object(response))):
            return f"credentials accepted by {self.settings.base_url}"
        interpret_response(response)  # raises for 401/403/404/429/5xx/other 4xx
        return f"credentials accepted by {self.settings.base_url} (HTTP {response.status_code})"

    def close(self) -> None:
        self.http.close()


def interpret_response(response: requests.Response) -> InvoiceRef:
    """Turn an e-Cont.md answer into an ``InvoiceRef`` or the right ``UpstreamError``.

    Only e-Cont.md's FAIL envelope proves a failure created nothing; any other answer
    that is not a success (a gateway's HTML page, an empty or unreadable body) is an
    unknown outcome, whatever its status (``failure_from_answer``)."""
    status = response.status_code
    body = _json_object(response)
    data = body.get("data") if body is not None else None
    data = data if isinstance(data, dict) else {}
    own_error = econt.is_error_envelope(body)

    if 200 <= status < 300 and body is not None and body.get("status") == econt.STATUS_OK:
        found = data.get("invoice")
        invoice: dict[str, Any] = found if isinstance(found, dict) else {}
        return InvoiceRef(
            invoice_id=_text(invoice.get(econt.INVOICE_ID_FIELD)),
            invoice_number=_text(invoice.get(econt.INVOICE_NUMBER_FIELD)),
            existed=bool(invoice.get(econt.EXISTING_FLAG)),
            http_status=status,
        )
    if (status == econt.DUPLICATE_HTTP_STATUS and own_error
            and data.get("code") == econt.DUPLICATE_ORDER_CODE):
        return InvoiceRef(invoice_id=None, existed=True, http_status=status)
    retry_after = (parse_retry_after(response.headers.get(econt.RETRY_AFTER_HEADER))
                   if status == 429 else None)
    raise failure_from_answer(status, _message(data, response), own_error=own_error,
                              upstream="e-Cont.md", retry_after=retry_after)


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _message(data: Mapping[str, Any], response: requests.Response) -> str:
    message = data.get("message")
    if isinstance(message, str) and message:
        return message[:500]
    if message is not None:
        return json.dumps(message, ensure_ascii=False)[:500]
    text = " ".join(response.text[:2000].split())  # an HTML page, bounded, on one line
    return (text[:200] or "(empty body)")


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
