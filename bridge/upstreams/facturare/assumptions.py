"""What we assume about facturare.md where its documentation is silent -- in one place.

facturare.md publishes only an introduction to its API (https://diginet.md/en/service-e-cont-md/
integrations/api; same text in Romanian and Russian): the base URL and a sandbox, HTTP Basic
authentication with an API key, the status codes, the error object ``{type, message, param}``
and the ``expand``, ``filter[...]`` and ``metadata[...]`` parameters. The full reference is
shown only inside a registered account. That introduction follows, nearly word for word, the
public API reference of Invoiced (https://developer.invoiced.com/api, whose source is
https://github.com/Invoiced/api), so where facturare.md is silent we follow Invoiced's
conventions -- one stated assumption each.

The adapter (``adapter.py``, ``render.py``) and the simulator (``sandbox/facturare``) both
import from here, so the simulator cannot quietly drift from what the adapter expects. Each
value says whether it is documented ([DOC]) or assumed ([ASSUMPTION], with the reason).
docs/facturare.md lists the same points for readers; keep the two in step. If the real
service turns out to behave differently, change it here, in the simulator, and in
docs/facturare.md -- nowhere else.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

# --- documented -------------------------------------------------------------------------

#: [DOC] "All API calls must be made to https://api.facturare.md".
PRODUCTION_BASE_URL = "https://api.facturare.md"
#: [DOC] "We have a sandbox environment for testing available at
#: https://api.sandbox.facturare.md".
SANDBOX_BASE_URL = "https://api.sandbox.facturare.md"

#: [DOC] HTTP Basic authentication with an API key; the page's examples pass
#: ``curl -u {API_KEY}:`` -- the key is the user name, the password is empty.
BASIC_AUTH_PASSWORD = ""

#: [DOC] The status codes the page lists.
DOCUMENTED_HTTP_STATUSES = (200, 201, 204, 400, 401, 403, 404, 429, 500)
#: [DOC] "401 Unauthorized -- Incorrect or missing API key".
UNAUTHORIZED_MESSAGE = "Incorrect or missing API key"
#: [DOC] "429 Too Many Requests -- You're moving too fast! Slow down!"
RATE_LIMITED_MESSAGE = "You're moving too fast! Slow down!"

#: [DOC] "All error responses will contain an object with these attributes": ``type``
#: (``invalid_request`` or ``api``), ``message``, and ``param`` "when a specific request
#: parameter was responsible".
ERROR_TYPES = ("invalid_request", "api")
ERROR_INVALID_REQUEST = "invalid_request"
ERROR_API = "api"

#: [DOC] List endpoints take ``filter[property]=value`` (exact match) and
#: ``metadata[key]=value`` (exact match on metadata; objects without the key are left out,
#: "with no error being thrown"). The page's examples: ``GET /invoices?filter[paid]=0&
#: filter[closed]=0&filter[customer]=1234`` and ``GET /customers?metadata[account-rep]=Jan``.
#: ``expand=customer,invoice`` replaces a relation's id with the object.
FILTER_PARAM = "filter[{}]"
METADATA_PARAM = "metadata[{}]"

#: [DOC] The resources the page's examples name: ``GET /invoices/:id``, ``GET /invoices``
#: and ``GET /customers``; a payment has ``customer`` and ``invoice`` relations.
CUSTOMERS_PATH = "/customers"
INVOICES_PATH = "/invoices"


def invoice_path(invoice_id: int | str) -> str:
    """[DOC] ``/invoices/:id``."""
    return f"{INVOICES_PATH}/{invoice_id}"


#: [DOC] Invoice properties the filter example names: ``paid``, ``closed``, ``customer``.
INVOICE_PAID_FIELD = "paid"
INVOICE_CUSTOMER_FIELD = "customer"


def is_error_object(body: object) -> bool:
    """[DOC] ``body`` (parsed JSON) is facturare.md's own error object: ``type`` one of
    ``invalid_request``/``api``, a ``message`` string and, if present, a ``param`` string or
    null. Only such an answer proves the service refused the request; a gateway's page or any
    other body does not (bridge.upstreams.failures)."""
    if not isinstance(body, dict):
        return False
    param = body.get("param")
    return (body.get("type") in ERROR_TYPES and isinstance(body.get("message"), str)
            and (param is None or isinstance(param, str)))


# --- assumed: resources ---------------------------------------------------------------

#: [ASSUMPTION] Payments are ``/payments`` (Invoiced's name for them). The page mentions
#: "requesting a payment" with ``customer`` and ``invoice`` relations but no path.
PAYMENTS_PATH = "/payments"

#: [ASSUMPTION] Objects are created with ``POST`` to their list path, with a JSON body
#: (``Content-Type: application/json``), and answer ``201 Created`` (the page's meaning of
#: 201) with the object itself -- no envelope; a list answers a JSON array (Invoiced).
CREATED_HTTP_STATUS = 201

#: [ASSUMPTION] Every object carries an integer ``id`` (Invoiced: "each object has a unique
#: integer identifier"); we store it as text. Invoices also carry a ``number`` the service
#: assigns (we never send one: the numbering series is the business's).
ID_FIELD = "id"
NUMBER_FIELD = "number"

#: [ASSUMPTION] Lists are paginated with ``page`` (from 1) and ``per_page`` (at most 100,
#: default 100), oldest first, with ``X-Total-Count`` and ``Link`` headers (Invoiced). Our
#: lookups match on our own metadata keys, so one page always holds every match.
PAGE_PARAM = "page"
PER_PAGE_PARAM = "per_page"
MAX_PER_PAGE = 100
TOTAL_COUNT_HEADER = "X-Total-Count"

#: [ASSUMPTION] ``check-config`` proves the key with ``GET /customers?per_page=1``: a list
#: request creates nothing, and every key may read its business's customers.
CREDENTIALS_PROBE_PARAMS = {PER_PAGE_PARAM: "1"}

#: [ASSUMPTION] 429 answers may carry ``Retry-After`` (seconds or an HTTP date); the page
#: names the status only. Without one, the dispatcher's backoff applies.
RETRY_AFTER_HEADER = "Retry-After"

# --- assumed: metadata, our keys --------------------------------------------------------

#: [ASSUMPTION] A list answers with every object created before it was asked (no search index
#: that catches up later): a lookup right after a lost answer sees the invoice if it exists.
#: The page says nothing about it; if lists lagged, a lookup could miss a fresh invoice.
LISTS_READ_YOUR_WRITES = True

#: [ASSUMPTION] Metadata is a flat object of string values: at most 10 keys, keys up to 40
#: characters, values up to 255 (Invoiced's limits). The page documents filtering by it.
METADATA_MAX_KEYS = 10
METADATA_MAX_KEY_LENGTH = 40
METADATA_MAX_VALUE_LENGTH = 255

#: Our keys in metadata (our choice, within those limits): the invoice of a shop's order
#: ("shop:order id"), the customer made from a set of billing details (a digest of them),
#: and the payment of an order ("shop:order id"). ``find_invoice`` and ``find_payment``
#: filter on them; customers are matched on theirs before one is created.
ORDER_KEY = "invoice_bridge_order"
CUSTOMER_KEY = "invoice_bridge_customer"
PAYMENT_KEY = "invoice_bridge_payment"

# --- assumed: field names and formats (Invoiced's) ----------------------------------------

#: [ASSUMPTION] A customer: ``name`` (required), ``email``, ``type`` (``company`` or
#: ``person``), ``address1``, ``address2``, ``city``, ``postal_code``, ``country`` (ISO 3166-1
#: alpha-2), ``phone``, ``tax_id``, ``metadata``.
CUSTOMER_FIELDS = ("name", "email", "type", "address1", "address2", "city", "postal_code",
                   "country", "phone", "tax_id", "metadata")
CUSTOMER_TYPES = ("company", "person")

#: [ASSUMPTION] An invoice: ``customer`` (the customer's id, required), ``currency``,
#: ``date``, ``purchase_order`` (the buyer's order reference: the shop's order number),
#: ``notes``, ``items`` (required), ``metadata``. Created invoices are issued, not drafts.
INVOICE_FIELDS = ("customer", "currency", "date", "purchase_order", "notes", "items",
                  "metadata")

#: [ASSUMPTION] A line item: ``name``, ``quantity`` (may be fractional), ``unit_cost``,
#: ``description``, ``taxes``. The service computes ``amount`` = quantity x unit_cost,
#: rounded half up to the currency's minor units; the invoice's ``subtotal`` is the sum of
#: the amounts, its ``total`` the subtotal plus every exclusive tax.
ITEM_FIELDS = ("name", "quantity", "unit_cost", "description", "taxes")

#: [ASSUMPTION] A line's tax: ``amount`` (required), ``rate`` (percent; absent when the shop
#: did not say) and ``inclusive`` (true: the tax is inside the line's amount, as when the
#: shop enters prices with VAT; false, the default: it is added on top). Invoiced names the
#: same idea (a rate that is "inclusive"); facturare.md documents no tax fields at all.
TAX_FIELDS = ("amount", "rate", "inclusive")

#: [ASSUMPTION] A payment: ``customer``, ``invoice``, ``amount``, ``currency``, ``date``,
#: ``method``, ``reference``, ``notes``, ``metadata``; it lowers the invoice's ``balance``
#: and the invoice is ``paid`` once that reaches 0.
PAYMENT_FIELDS = ("customer", "invoice", "amount", "currency", "date", "method",
                  "reference", "notes", "metadata")
#: [ASSUMPTION] Invoiced's payment methods; WooCommerce gateways map onto them
#: (``PAYMENT_METHODS_BY_GATEWAY``), anything else is ``other``.
PAYMENT_METHODS = ("cash", "check", "wire_transfer", "credit_card", "ach", "paypal", "other")
PAYMENT_METHODS_BY_GATEWAY = {"cod": "cash", "bacs": "wire_transfer", "cheque": "check",
                              "stripe": "credit_card", "ppcp-gateway": "paypal",
                              "paypal": "paypal"}

#: [ASSUMPTION] Dates are UNIX timestamps (whole seconds), as in Invoiced. An invoice is
#: dated when the order was created; a payment, at noon UTC of the day it was paid (the same
#: calendar day in every time zone from UTC-11 to UTC+11).
PAYMENT_HOUR_UTC = 12

#: [ASSUMPTION] Currencies are ISO 4217 codes in lower case ("mdl"), as in Invoiced's
#: examples.
CURRENCY_PATTERN = re.compile(r"^[a-z]{3}$")

#: [ASSUMPTION] Amounts (``unit_cost``, tax ``amount``, payment ``amount``) and quantities are
#: sent as decimal strings ("1250.50"): Invoiced shows JSON numbers, but a string keeps every
#: digit exactly and the same vendor's e-Cont.md API takes amounts that way. Answers may
#: carry JSON numbers; we read them as Decimal, never float.
DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")

#: [ASSUMPTION] The service keeps amounts to the currency's ISO 4217 minor units: 2, except
#: those listed here. An order with more decimals than its currency has cannot be invoiced
#: to the exact amount, and the adapter says so instead of letting the service round.
CURRENCY_DECIMALS: dict[str, int] = {
    **dict.fromkeys(("bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "pyg", "rwf",
                     "ugx", "uyi", "vnd", "vuv", "xaf", "xof", "xpf"), 0),
    **dict.fromkeys(("bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"), 3),
    **dict.fromkeys(("clf", "uyw"), 4),
}
DEFAULT_CURRENCY_DECIMALS = 2

#: [ASSUMPTION] A repeated ``POST /invoices`` creates a second invoice: nothing says the
#: service refuses or folds one, and Invoiced does not. The adapter therefore looks an
#: invoice up by ``metadata[invoice_bridge_order]`` before sending an order again.
REPEATS_CREATE_NEW = True

#: [ASSUMPTION] The customer's e-mail is required: the same vendor's e-Cont.md Invoice Object
#: makes the buyer's e-mail its one required field (the invoice is e-mailed there).
EMAIL_REQUIRED_REASON = ("facturare.md e-mails the invoice to the customer (as e-Cont.md, "
                         "the same vendor, requires)")


def currency_decimals(currency: str) -> int:
    return CURRENCY_DECIMALS.get(currency.lower(), DEFAULT_CURRENCY_DECIMALS)


def decimal_text(value: Decimal) -> str:
    """A Decimal as the plain decimal string we send: no exponent, trailing zeros as given
    (``Decimal("8377.20")`` -> ``"8377.20"``)."""
    return f"{value:f}"


def line_amount(quantity: Decimal, unit_cost: Decimal, currency: str) -> Decimal:
    """[ASSUMPTION] What the service makes of a line (``ITEM_FIELDS``): quantity x unit_cost,
    rounded half up to the currency's minor units."""
    places = Decimal(1).scaleb(-currency_decimals(currency))
    return (quantity * unit_cost).quantize(places, rounding=ROUND_HALF_UP)
