"""What we know and what we assume about Fakturoid API v3 -- in one place.

The adapter (``adapter.py``, ``api.py``, ``auth.py``, ``render.py``) and the simulator
(``sandbox/fakturoid``) both import from here, so the simulator cannot quietly drift from
what the adapter expects. Each value says whether it is documented ([DOC], with the page of
https://www.fakturoid.cz/api/v3 it is on) or our assumption ([ASSUMPTION], with the reason).
docs/fakturoid.md lists the same points for readers; keep the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

# --- documented: requests ---------------------------------------------------------------

#: [DOC /api/v3] Every URL starts here; HTTPS only.
DEFAULT_BASE_URL = "https://app.fakturoid.cz/api/v3"
#: [DOC /api/v3/authorization] The token endpoint (Client Credentials flow).
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
#: [DOC /api/v3/users] The current user: read-only, no account slug.
USER_PATH = "/user.json"
#: [DOC /api/v3] Almost every resource lives under the account's slug.
ACCOUNT_PREFIX = "/accounts/{slug}"
#: [DOC /api/v3/account] The account's settings (currency, VAT mode): read-only.
ACCOUNT_PATH = "/account.json"
#: [DOC /api/v3/subjects, /api/v3/invoices, /api/v3/invoice-payments]
SUBJECTS_PATH = "/subjects.json"
INVOICES_PATH = "/invoices.json"
INVOICE_PATH = "/invoices/{id}.json"
FIRE_PATH = "/invoices/{id}/fire.json"
PAYMENTS_PATH = "/invoices/{id}/payments.json"

#: [DOC /api/v3] "All requests must have the User-Agent header with the information about
#: the name of your application and a technical contact email": ``YourAppName
#: (administrative@contact.com)``. Without it: 400 with the error below.
USER_AGENT_FORMAT = "Name (contact@example.com)"
USER_AGENT_PATTERN = re.compile(
    r"^[!-'*-~](?:[ !-'*-~]{0,150}[!-'*-~])? \([^\s()@]{1,64}@[^\s()@]{1,190}\.[^\s()@]{1,63}\)$")
MISSING_USER_AGENT = ("invalid_request", 'Required header "User-Agent" is missing')

#: [DOC /api/v3/authorization] Client ID and Client Secret only in ``Authorization: Basic``;
#: body ``grant_type=client_credentials`` (JSON or form); the answer is ``{access_token,
#: token_type: "Bearer", expires_in: 7200}``, no refresh token: "Access token expires after 2
#: hours after which needs to be obtained again". The wording of the refusal of credentials
#: sent in the body is Fakturoid's, quoted from a live answer in fakturoid/fakturoid-php#34.
GRANT_TYPE = "client_credentials"
TOKEN_LIFETIME = 7200
CREDENTIALS_IN_BODY = ("invalid_request",
                       "Client ID and Client Secret have to be sent via HTTP Basic Authorization")

#: [DOC /api/v3] "There are 40 records per page"; the next page is ``?page=N``; a page past
#: the end is an empty array (changelog: "keep requesting pages until the response is empty").
PAGE_SIZE = 40

#: [DOC /api/v3/invoices] Languages, payment methods, price modes, document types, states.
LANGUAGES = ("cz", "sk", "en", "de", "fr", "it", "es", "ru", "pl", "hu", "ro")
PAYMENT_METHODS = ("bank", "cash", "cod", "card", "paypal", "custom")
#: [DOC] ``custom_payment_method``: "Max 20 characters", only with ``payment_method = custom``
CUSTOM_PAYMENT_METHOD_MAX = 20
PRICE_WITHOUT_VAT = "without_vat"
PRICE_WITH_VAT = "from_total_with_vat"
VAT_PRICE_MODES = (PRICE_WITHOUT_VAT, PRICE_WITH_VAT)
DOCUMENT_INVOICE = "invoice"
DOCUMENT_CORRECTION = "correction"
CREATABLE_DOCUMENT_TYPES = ("invoice", "proforma", "correction", "tax_document",
                            "final_invoice")
STATUS_PAID = "paid"
STATUS_CANCELLED = "cancelled"
INVOICE_STATES = ("open", "sent", "overdue", "paid", "cancelled", "uncollectible")
#: [DOC /api/v3/invoices] ``fire.json?event=``: 204, or 422 ``{"errors": {"event":
#: ["<event> cannot be fired"]}}``.
CANCEL_EVENT = "cancel"
EVENTS = ("mark_as_sent", "cancel", "undo_cancel", "lock", "unlock", "mark_as_uncollectible",
          "undo_uncollectible")
#: [DOC /api/v3/invoice-payments] A payment on a paid invoice: 403 with this body.
ALREADY_PAID = ("forbidden", "Payment cannot be added to already paid invoice")

#: [DOC /api/v3] Rate limit headers on every answer (IETF draft-08): ``X-RateLimit-Policy:
#: default;q=400;w=60`` (quota, window in seconds) and ``X-RateLimit: default;r=398;t=55``
#: (remaining, seconds until reset); over the quota: 429, "wait until the rate limit resets".
RATE_LIMIT_HEADER = "X-RateLimit"
RATE_LIMIT_POLICY_HEADER = "X-RateLimit-Policy"
DOCUMENTED_QUOTA = 400
DOCUMENTED_WINDOW = 60

#: [DOC /api/v3] 402: the account is blocked for an overdue Fakturoid bill; 503: maintenance
#: (read-only mode), retry later -- "Fakturoid does not store the requests".
BLOCKED_STATUS = 402
READ_ONLY_STATUS = 503


def is_error_body(body: object) -> bool:
    """[DOC /api/v3, "Error handling"] ``body`` (parsed JSON) is Fakturoid's own error
    answer: ``{"errors": {field: [message, ...]}}`` (always for 422) or ``{"error": code,
    "error_description": text}`` (the 404 observed in recorded traffic carries ``error``
    alone). Only such an answer proves Fakturoid refused the request and created nothing; a
    gateway's page, an empty body or JSON of another shape does not."""
    if not isinstance(body, Mapping):
        return False
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        return bool(errors) and all(
            isinstance(key, str) and isinstance(value, list)
            and all(isinstance(item, str) for item in value) for key, value in errors.items())
    error = body.get("error")
    description = body.get("error_description")
    return isinstance(error, str) and bool(error) and (description is None
                                                       or isinstance(description, str))


# --- assumed ----------------------------------------------------------------------------

#: [ASSUMPTION] A 402 answer whose body is any JSON object is Fakturoid's own: the docs say
#: only that it "will contain the list of unpaid invoices", not in which shape.
def is_blocked_body(body: object) -> bool:
    return isinstance(body, Mapping)


#: [ASSUMPTION] A token is renewed this many seconds before it expires (the official Ruby
#: client uses 10 s; a minute leaves room for a request that starts just before expiry and
#: for clocks of several workers).
TOKEN_RENEW_MARGIN = 60

#: [ASSUMPTION] Without ``Retry-After`` on a 429 (not documented, not seen in recorded
#: traffic), the ``t`` of ``X-RateLimit`` -- "the remaining time in seconds until the reset"
#: -- is how long to wait.
_RATE_LIMIT_RESET = re.compile(r"(?:^|;)\s*t\s*=\s*(\d{1,9})\s*(?:;|$)")
_RATE_LIMIT_REMAINING = re.compile(r"(?:^|;)\s*r\s*=\s*(\d{1,9})\s*(?:;|$)")


def rate_limit_reset(value: str | None) -> float | None:
    """Seconds until the quota resets, from ``X-RateLimit: default;r=0;t=17``; None if the
    header is missing or unreadable."""
    if not value or len(value) > 200:
        return None
    match = _RATE_LIMIT_RESET.search(value)
    return float(match.group(1)) if match else None


def rate_limit_remaining(value: str | None) -> int | None:
    if not value or len(value) > 200:
        return None
    match = _RATE_LIMIT_REMAINING.search(value)
    return int(match.group(1)) if match else None


#: [ASSUMPTION] Bodies of the errors the docs list without one: 401 (a missing, unknown or
#: expired token) ``{"error": "invalid_token", ...}`` with ``WWW-Authenticate: Bearer``
#: (RFC 6750); a refused client at the token endpoint ``{"error": "invalid_client", ...}``
#: (RFC 6749); an unknown account slug answers like an unknown id, 404 ``{"error":
#: "resource_not_found"}``; 429 and 5xx use the ``error``/``error_description`` shape. The
#: docs promise that every error body is one of the two shapes.
INVALID_TOKEN = "invalid_token"  # noqa: S105 - an error code
INVALID_CLIENT = "invalid_client"
NOT_FOUND = "resource_not_found"

#: [ASSUMPTION] Invoice ``custom_id`` is NOT unique: the docs call it "Identifier in your
#: application" and filter by it (an array comes back), nothing says a second invoice with
#: the same value is refused. So the bridge looks an invoice up by it before sending again
#: after any unknown outcome, and never relies on Fakturoid to refuse a repeat.
INVOICE_CUSTOM_ID_UNIQUE = False
#: [ASSUMPTION] Subject ``custom_id`` IS unique (the official PHP client's README says
#: Fakturoid refuses a second subject with the same one); the refusal is a 422 on
#: ``custom_id``.
SUBJECT_CUSTOM_ID_TAKEN = ("custom_id", "has already been taken")

#: [ASSUMPTION] How Fakturoid rounds (not documented): per line, to 2 decimal places, half
#: up. ``without_vat``: the line's total without VAT is unit price x quantity, its VAT that
#: times the rate; ``from_total_with_vat``: the total with VAT is unit price x quantity, the
#: VAT is taken out of it (rate / (100 + rate)). The document's totals are the sums of its
#: lines. The documented examples (1000 net at 21 % -> 1210; 1210 gross -> 1000 net) agree.
#: The adapter relies on this to keep an invoice's total equal to the order's; the
#: simulator computes totals this way.
AMOUNT_PLACES = 2
_CENT = Decimal(1).scaleb(-AMOUNT_PLACES)


def line_totals(unit_price: Decimal, quantity: Decimal, vat_rate: Decimal,
                mode: str) -> tuple[Decimal, Decimal, Decimal]:
    """(total without VAT, VAT, total with VAT) of one line, as Fakturoid computes them
    (see above). ``mode`` is a ``VAT_PRICE_MODES`` value."""
    amount = _round(unit_price * quantity)
    if mode == PRICE_WITH_VAT:
        vat = _round(amount * vat_rate / (100 + vat_rate))
        return amount - vat, vat, amount
    vat = _round(amount * vat_rate / 100)
    return amount, vat, amount + vat


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


#: [ASSUMPTION] Unit prices and quantities are taken with up to this many decimal places
#: (a fractional quantity's unit price carries a few more than the currency's; the docs
#: type them "Decimal" without a precision).
MAX_PRICE_PLACES = 6

#: [ASSUMPTION] The sign of a correction document (``document_type: "correction"`` with
#: ``correction_id``) is not documented for v3; like the integrations that issue them (the
#: Shoptet connector sends negative unit prices), a refund is a line with a NEGATIVE unit
#: price and a positive quantity.
CORRECTION_SIGN = Decimal(-1)

#: [ASSUMPTION] Which accounts may fire ``cancel`` is contradictory in the docs (the
#: ``cancelled_at`` attribute says "only for non-VAT-payers", the status table "only for
#: VAT-payers"). The adapter fires it and reads a 422 "cancel cannot be fired" as a clear,
#: permanent refusal; the simulator lets all accounts cancel unless told otherwise.
CANCEL_ALLOWED_FOR = ("all", "vat_payers", "non_vat_payers")

#: [ASSUMPTION, third parties] A non-VAT-payer account refuses a non-zero VAT rate with a
#: 422 on ``lines.vat_rate`` ("must be zero"); Shopify and WooCommerce plugin help pages
#: quote this error.
NON_ZERO_VAT_FOR_NON_PAYER = ("lines.vat_rate", "must be zero")


# --- our keys in Fakturoid --------------------------------------------------------------

#: Ours: the invoice ``custom_id`` is "<shop id>:<WooCommerce order id>" (shop ids have no
#: colon), so two shops on one Fakturoid account never collide; a subject's is
#: "<shop>:customer:<id>" for a registered customer and "<shop>:order:<id>" for a guest.
def invoice_key(shop: str, order_id: int) -> str:
    return f"{shop}:{order_id}"


def subject_key(shop: str, customer_id: int, order_id: int) -> str:
    return f"{shop}:customer:{customer_id}" if customer_id > 0 else f"{shop}:order:{order_id}"


_INVOICE_KEY = re.compile(r"^([a-z0-9][a-z0-9_-]{0,63}):([1-9][0-9]{0,18})$")
_SUBJECT_ORDER_KEY = re.compile(r"^([a-z0-9][a-z0-9_-]{0,63}):order:([1-9][0-9]{0,18})$")


def order_of_invoice_key(custom_id: object) -> tuple[str, int] | None:
    """(shop, order id) of an invoice ``custom_id`` we wrote, else None."""
    match = _INVOICE_KEY.match(custom_id) if isinstance(custom_id, str) else None
    return (match.group(1), int(match.group(2))) if match else None


def order_of_subject_key(custom_id: object) -> int | None:
    """The order id of a guest's subject ``custom_id``, else None."""
    match = _SUBJECT_ORDER_KEY.match(custom_id) if isinstance(custom_id, str) else None
    return int(match.group(2)) if match else None

