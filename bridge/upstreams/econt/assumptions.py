"""What we assume about e-Cont.md where its documentation is silent -- in one place.

The adapter (``adapter.py``) and the simulator (``simulator/``) both import from here, so
the simulator can never quietly drift from what the adapter expects. Each value says whether
it is documented ([DOC], from docs.e-cont.md) or our assumption ([ASSUMPTION]). docs/econt.md
lists the same points for readers; keep the two in step.

If the real service is found to behave differently, change it here, in the simulator's mode
switches, and in docs/econt.md -- nowhere else.
"""

from __future__ import annotations

import re

# --- documented -------------------------------------------------------------------------

#: [DOC] The only documented method: POST {base}/facturare/v1/put/invoice.
PUT_INVOICE_PATH = "/facturare/v1/put/invoice"

#: [DOC] Body: connect + order + items; connect.client, connect.token, connect.language.
LANGUAGES = ("ro", "ru", "en", "ro-RO", "ru-RU", "en-US")

#: [DOC] Dates are "YYYY-MM-DD hh:mm:ss" (24-hour clock in the examples).
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

#: [DOC] Envelope: {"status": "OK"|"FAIL", "data": {...}}; errors carry data.name,
#: data.message, data.code, data.status.
STATUS_OK = "OK"
STATUS_FAIL = "FAIL"

#: [DOC] HTTP statuses the docs list.
DOCUMENTED_HTTP_STATUSES = (200, 201, 204, 400, 401, 403, 404, 429, 500)

#: [DOC] The members every error answer's ``data`` carries (docs.e-cont.md/en/api-errors).
ERROR_DATA_FIELDS = ("name", "message", "code", "status")


def is_error_envelope(body: object) -> bool:
    """[DOC] ``body`` (parsed JSON) is e-Cont.md's own error answer: ``{"status": "FAIL",
    "data": {"name", "message", "code", "status"}}``. Only such an answer proves the service
    refused the request; a gateway's page or any other body does not (bridge.upstreams.
    failures)."""
    if not isinstance(body, dict) or body.get("status") != STATUS_FAIL:
        return False
    data = body.get("data")
    if not isinstance(data, dict) or not all(key in data for key in ERROR_DATA_FIELDS):
        return False
    return isinstance(data["name"], str) and all(
        isinstance(data[key], int) and not isinstance(data[key], bool)
        for key in ("code", "status"))


# --- assumed ----------------------------------------------------------------------------

#: [ASSUMPTION] Client ID and Token are 32 lowercase hex characters (md5), as the vendor's
#: published back-office code generates them. The docs do not state a format.
KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")

#: [ASSUMPTION] A successful put answers HTTP 200 with the OK envelope and, in data.invoice,
#: the e-Cont internal invoice id ("hash", 32 hex, the id the docs' e-invoice verification
#: page shows) and the e-Cont invoice number. The docs do not describe the success body.
SUCCESS_HTTP_STATUS = 200
INVOICE_ID_FIELD = "hash"
INVOICE_NUMBER_FIELD = "number"
INVOICE_ORDER_FIELD = "order_id"

#: [ASSUMPTION] What a repeated ``order.id`` does is undocumented. The simulator offers all
#: three plausible behaviours; the bridge is told which one to expect per shop
#: (``repeated_order`` in the config; ``unknown`` by default):
#:
#: - ``reject``: HTTP 409 with the FAIL envelope and data.code = DUPLICATE_ORDER_CODE.
#:   409 is *not* in the documented status list; this mode is hypothetical.
#: - ``return_existing``: HTTP 200 with the first invoice, data.invoice[EXISTING_FLAG] = true.
#: - ``create_new``: a second invoice is created (the dangerous case).
#:
#: "Repeated" means the same ``order.id`` under the same Client ID (one e-Cont.md account):
#: the docs call order.id "your" unique number, so another account may reuse it.
REPEATED_ORDER_MODES = ("reject", "return_existing", "create_new")
DUPLICATE_HTTP_STATUS = 409
DUPLICATE_ORDER_CODE = 1062
EXISTING_FLAG = "existing"

#: [ASSUMPTION] Validation failures answer HTTP 400 with the FAIL envelope; data.message
#: lists the offending fields as "path: reason; path: reason".
VALIDATION_HTTP_STATUS = 400

#: [ASSUMPTION] The service checks connect.client/token before the rest of the body, so a put
#: with credentials and no order answers 401 for bad keys and 400 (a validation failure) for
#: good ones -- without creating anything. ``check-config`` relies on this; e-Cont.md offers
#: no read-only endpoint to test credentials with.
PROBE_ACCEPTED_STATUS = VALIDATION_HTTP_STATUS

#: [ASSUMPTION] 429 responses carry Retry-After (seconds); only the status code is documented.
RETRY_AFTER_HEADER = "Retry-After"

#: [ASSUMPTION] Amounts are sent as decimal strings with the order currency's decimals,
#: as in every documented example ("554.30", "30"). The docs type them "decimal".
#: Quantities are integers [DOC]. The simulator also checks that the line totals add up to
#: ``order.amount`` -- the docs do not say the service checks it; we never send otherwise.


def is_valid_key(value: object) -> bool:
    return isinstance(value, str) and bool(KEY_PATTERN.match(value))
