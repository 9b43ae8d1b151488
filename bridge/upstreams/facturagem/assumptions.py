"""What we know and what we assume about FACTURAgem's API v1 -- in one place.

The adapter (``bridge/upstreams/facturagem``) and the simulator (``sandbox/facturagem``) both
import from here, so the simulator cannot drift from what the adapter expects. Each value says
whether FACTURAgem documents it ([DOC], https://facturagem.com/developers/api_docs) or it is our
assumption ([ASSUMPTION], with the reason). docs/facturagem.md lists the same points for
readers; keep the two in step.

The documentation describes the verbs, the session, the resources and their URLs, the status
codes, the shape of validation errors, the ``strict`` switch and paging; it does not describe
a single field of a client, an invoice or a payment. Every field name below is therefore an
assumption -- and because we leave ``strict`` on, a wrong one fails the first request loudly
(FACTURAgem answers 422 with the list of the parameters it allows) instead of being dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DOCS_URL = "https://facturagem.com/developers/api_docs"

# --- documented ---------------------------------------------------------------------------

#: [DOC] "https://facturagem.com/api/v1/..." ; ".json" at the end of a URL asks for JSON
#: (".xml" for XML; we only speak JSON).
DEFAULT_BASE_URL = "https://facturagem.com/api/v1"
FORMAT_SUFFIX = ".json"

#: [DOC] POST session.json with the parameters 'login' and 'password' returns the user's
#: information, one of whose fields is 'api_key'. Logging in again returns the same key.
#: DESTROY on session.json invalidates the key on every device and application of the user:
#: the bridge never calls it.
SESSION_PATH = "/session.json"
LOGIN_PARAMS = ("login", "password")
API_KEY = "api_key"

#: [DOC] The resources and their operations.
ACCOUNTS_PATH = "/accounts.json"                       # GET: the current user's account
ACCOUNT_PATH = "/accounts/{account}.json"              # GET, PUT
CLIENTS_PATH = "/accounts/{account}/clients.json"      # GET (paged), POST
CLIENT_PATH = "/accounts/{account}/clients/{client}.json"          # GET, PUT, DESTROY
INVOICES_PATH = "/accounts/{account}/invoices.json"    # GET (paged), POST
CLIENT_INVOICES_PATH = "/accounts/{account}/clients/{client}/invoices.json"  # GET (paged)
NEW_INVOICE_PATH = "/accounts/{account}/invoices/new.json"         # GET (prefilled, empty)
INVOICE_PATH = "/accounts/{account}/invoices/{invoice}.json"       # GET, PUT, DESTROY
PAYMENTS_PATH = "/accounts/{account}/invoices/{invoice}/payments.json"  # POST: a payment
COUNTRIES_PATH = "/countries.json"                     # GET, no authentication

#: [DOC] Client and invoice collections are paged by the "page" parameter; the end is an
#: empty collection. Collections hold summaries of the resources, with links to each.
PAGE_PARAM = "page"
FIRST_PAGE = 1

#: [DOC] Unexpected parameters are refused (422, with the list of the allowed ones) unless
#: the special parameter "strict" is "false" or "0". We never send it: a wrong field name
#: must fail loudly.
STRICT_PARAM = "strict"
STRICT_OFF = ("false", "0")

#: [DOC] The statuses the API answers with; "OK 200" is its only success status. Updates
#: and deletions answer with the status alone, GET and POST with the resource.
DOCUMENTED_STATUSES = (200, 401, 404, 406, 422)
SUCCESS_STATUS = 200
UNAUTHORIZED_STATUS = 401
VALIDATION_STATUS = 422

#: [DOC] Validation errors (422) return the target resource with an extra field "errors"
#: describing the problems. Every response carries "links" (rel, uri) to related resources.
ERRORS_FIELD = "errors"
LINKS_FIELD = "links"

# --- assumed: transport -----------------------------------------------------------------------

#: [ASSUMPTION] Where the api_key goes. The docs call it a parameter to send "on every
#: request" without saying where; a Rails-style API reads parameters from the query string
#: and the body alike. ``api_key_in = "query"`` (default) puts it in the query string of
#: every request; ``"body"`` puts it in the JSON body of POST requests (and in the query
#: string of GETs, which have no body).
API_KEY_PLACES = ("query", "body")

#: [ASSUMPTION] Request bodies are JSON (Content-Type: application/json) with the resource's
#: fields under its name -- {"client": {...}}, {"invoice": {...}}, {"payment": {...}} -- the
#: Rails convention, which Rails also accepts when a body is sent flat. The login is sent as
#: {"login": ..., "password": ...}.
CLIENT_ROOT = "client"
INVOICE_ROOT = "invoice"
PAYMENT_ROOT = "payment"

#: [ASSUMPTION] What a list entry ("summary") holds is not documented. We read a client's
#: "nif" and "email", and an invoice's "notes", from the entry when they are there, and read
#: the resource in full (GET .../{id}.json) when they are not: correct either way, only the
#: number of requests differs. The order of a list is not relied on: every lookup reads to
#: the empty page. The page size is FACTURAgem's (the simulator's is 25).

#: [ASSUMPTION] A resource comes back as a JSON object (we also read it when it is wrapped in
#: its name, {"invoice": {...}}); a collection as a JSON array of summaries (or wrapped).
#: Ids are numbers or strings like the docs' account "1-kovacek-nienow"; we keep them as text.
ID_FIELD = "id"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

#: [ASSUMPTION] Every error answer FACTURAgem itself gives -- 401, 404, 406, 422, and 429 or
#: 5xx should it send them -- is a JSON object with an "errors" member: documented for 422,
#: assumed for the rest. Only such an answer proves that nothing was created; an HTML page,
#: an empty body or other JSON is an unknown outcome (bridge/upstreams/failures.py).
#: "errors" maps a field to its messages ({"amount": ["must be greater than 0"]}); we also
#: read a list of messages or [field, message] pairs, and a plain string.

#: [ASSUMPTION] An unexpected parameter answers 422 with "errors" naming it and the allowed
#: parameters in "allowed_params" (the docs say the 422 carries "a list of the allowed
#: params", not under which name). Parameters are named by their path: "invoice.notes",
#: "invoice.lines.price".
ALLOWED_PARAMS_FIELD = "allowed_params"
UNEXPECTED_PARAM_MESSAGE = "is not an allowed parameter"

#: [ASSUMPTION] 429, should FACTURAgem rate-limit, carries Retry-After in seconds. No rate
#: limit is documented.
RETRY_AFTER_HEADER = "Retry-After"

#: [ASSUMPTION] Sessions do not expire on a timer the docs state; when the key stops working
#: the API answers 401 and we log in once more (the same key comes back unless someone
#: DESTROYed the session, then a new one).

# --- assumed: fields ----------------------------------------------------------------------

#: [ASSUMPTION] A client: "name", "nif" (the Spanish tax id: NIF/CIF, or a foreign buyer's
#: VAT number), "email", "phone", "address", "city", "postal_code", "country" (an ISO 3166-1
#: alpha-2 code, as listed by countries.json).
CLIENT_FIELDS = ("name", "nif", "email", "phone", "address", "city", "postal_code", "country")
CLIENT_NIF = "nif"
CLIENT_EMAIL = "email"

#: [ASSUMPTION] An invoice: "client_id", "notes" (free text), "lines", "prices_include_tax"
#: (the line prices include IVA; sent only when they do), "currency" (ISO 4217; sent only
#: when it is not the account's). The number and the issue date are FACTURAgem's to set:
#: Spanish invoices are numbered in sequence by date, which an order's own number and date
#: would break. A line: "description", "quantity", "price" (unit price), "iva_percent".
#: IRPF withholding and the recargo de equivalencia are not sent.
INVOICE_FIELDS = ("client_id", "notes", "lines", "prices_include_tax", "currency")
LINE_FIELDS = ("description", "quantity", "price", "iva_percent")

#: [ASSUMPTION] An invoice as FACTURAgem returns it carries, besides the fields above,
#: "number", "date", "total" (what the buyer is asked to pay), "paid" (true once payments
#: cover it) and "payments" (each with "id", "amount", "date").
NUMBER_FIELD = "number"
NOTES_FIELD = "notes"
PAID_FIELD = "paid"
PAYMENTS_FIELD = "payments"

#: [ASSUMPTION] A payment: "amount" (decimal) and "date" (YYYY-MM-DD).
PAYMENT_FIELDS = ("amount", "date")
DATE_FORMAT = "%Y-%m-%d"

#: [ASSUMPTION] Amounts are computed in cents: a currency with more than 2 decimals cannot
#: be invoiced exactly.
MAX_DECIMALS = 2

# --- ours: the key that finds an invoice again ----------------------------------------------

#: FACTURAgem has no field for a key of ours (no custom id, no metadata), so the invoice's
#: "notes" begin with a line naming the shop and the order: "Ref. pedido: shop:1203". An
#: invoice is found again by listing the invoices of its client (the documented
#: clients/{id}/invoices.json, paged to the end) and reading that first line -- the first
#: line only, which we write, so no text elsewhere can pass for it.
REFERENCE_PREFIX = "Ref. pedido: "

#: Paging is bounded: no scan reads more pages than this (at FACTURAgem's page size, an
#: account's clients or a client's invoices beyond it cannot be looked through).
MAX_PAGES = 2000


def order_reference(shop: str, order_id: int) -> str:
    """Our key for the invoice of an order: ``"shop:1203"``."""
    return f"{shop}:{order_id}"


def reference_line(reference: str) -> str:
    return f"{REFERENCE_PREFIX}{reference}"


def reference_in_notes(notes: object) -> str | None:
    """The key an invoice's notes begin with, or None."""
    if not isinstance(notes, str):
        return None
    first = notes.lstrip("\ufeff").splitlines()[0].strip() if notes.strip() else ""
    if not first.startswith(REFERENCE_PREFIX):
        return None
    return first[len(REFERENCE_PREFIX):].strip() or None


def is_error_body(body: object) -> bool:
    """``body`` (parsed JSON) is FACTURAgem's own error answer: an object with a non-empty
    "errors" member. Only such an answer proves the service refused the request."""
    if not isinstance(body, Mapping):
        return False
    errors = body.get(ERRORS_FIELD)
    return isinstance(errors, Mapping | list | str) and bool(errors)


def unwrap(body: object, root: str) -> Any:
    """A resource answered flat or wrapped in its name ({"invoice": {...}})."""
    if isinstance(body, Mapping) and len(body) == 1 and isinstance(body.get(root), Mapping):
        return body[root]
    return body
