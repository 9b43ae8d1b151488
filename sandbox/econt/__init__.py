"""An offline imitation of e-Cont.md's put/invoice endpoint (api.diginet.md), for tests,
``invoice-bridge demo``, benchmarks and fault injection.

Run it with ``run_simulator()`` (background thread, for tests), ``serve_forever()`` (what
``invoice-bridge sandbox econt`` calls) or ``python -m sandbox.econt``.

What follows the vendor documentation (https://docs.e-cont.md; summarised in docs/econt.md):

- ``POST {base}/facturare/v1/put/invoice`` with a JSON body (``Content-Type:
  application/json``) made of ``connect`` + ``order`` + ``items``;
- credentials inside the body: ``connect.client`` (Client ID), ``connect.token`` (Token) and
  ``connect.language`` (ro, ru, en, ro-RO, ru-RU, en-US), called required in every request;
- the documented field names and types of ``order``, ``order.billing`` and ``items``;
  ``billing.email`` is the only field the docs mark as required; ``items`` is a JSON object
  keyed by strings holding integers; quantities are integers; dates are
  ``YYYY-MM-DD hh:mm:ss``; currencies are three-letter ISO 4217 codes, countries ISO 3166-1
  alpha-2;
- the ``{"status": "OK"|"FAIL", "data": {name, message, code, status}}`` envelope, the
  "Incorrect or missing API key" wording of 401, and Yii's "Invalid Route" 404 body.

What is our assumption (the shared ones live in ``bridge/upstreams/econt/assumptions.py`` and
are imported, never repeated here; the rest is simulator strictness chosen so adapter bugs
show up early):

- keys are 32 lowercase hex characters; the success body (HTTP 200, ``data.invoice`` with
  the hash, number and order id); validation failures answer 400 with
  ``data.message = "path: reason; path: reason"``; Retry-After on 429; what a repeated
  ``order.id`` does (``repeated_order``: reject with 409 / return the existing invoice /
  create another one) -- all from ``bridge/upstreams/econt/assumptions.py``;
- order ids are unique per account (Client ID); the first invoice of an order is the one a
  duplicate refers to;
- ``order.id``, ``order_number``, ``amount``, ``currency``, ``date_created`` and ``billing``
  are required (an invoice cannot be issued without them); ``status`` and
  ``customer_note`` are optional (the docs give ``status`` a default). Per item,
  ``product_name``, ``product_price``, ``product_qnt`` and ``line_total`` are required;
  ``product_id``, ``product_sku`` and ``product_unit`` are optional (the docs' own example
  omits ``product_unit``);
- fields the docs do not define are rejected, documented string fields must be strings
  (not null), ``items`` must not be empty, ``order.amount`` must not be negative (line
  values may be, e.g. a discount or rounding line), duplicate JSON keys are refused;
- decimals are JSON numbers or strings like ``"554.30"`` (no exponent, comma or sign other
  than a leading minus), always read as ``Decimal``; with ``check_totals`` (default on)
  the line totals must add up to ``order.amount`` exactly -- the docs do not say e-Cont.md
  checks this;
- messages are English whatever ``connect.language`` says (the docs say errors follow it).

Everything under ``/_sandbox/`` is OUR control API (inspect invoices and stats, register
accounts, switch behaviours, queue faults); e-Cont.md has nothing like it:
``GET invoices[?order_id=&account=]``, ``GET stats``, ``GET requests`` (the last 1000
vendor requests), ``POST reset``, ``POST accounts {client, token}``, ``GET|POST config
{repeated_order, check_totals, latency}``, ``GET|POST|DELETE faults``.

Faults (queued rules; each put request takes at most one, the first firing rule in queue
order; ``{"kind": k, "times": n}`` fires on the next n puts, ``{"kind": k, "probability":
p, "seed": s}`` draws from its own ``random.Random(s)`` on every put, so the pattern
depends only on the seed; ``delay`` pauses first, ``retry_after`` adds Retry-After,
``status`` sets a gateway page's status):

- before processing, nothing created: "500", "502", "503" (that status, FAIL envelope),
  "429" (plus Retry-After, default 1 s), "401" (the 401 envelope), "403", "422" (FAIL envelope),
  "reset" (the request is read, then the TCP connection is reset: SO_LINGER 0 + close),
  "gateway" (a gateway's HTML error page, ``status`` 400-599, default 502 -- no envelope);
- after processing normally (an invoice exists if the request was valid and not a
  rejected repeat): "slow" (answer held back ``delay`` s, default 3), "drop_after_create"
  (connection closed with FIN, no answer), "malformed" (200 with an HTML error page),
  "empty" (200, JSON content type, no bytes), "gateway_after_create" (the gateway's HTML
  page as for "gateway": the service acted, then something in front of it failed).

Fault answers carry ``X-Sandbox-Fault: <kind>`` (ours) so captured traffic is readable.

Modules: ``state`` (SimulatorState, InvoiceRecord, the demo account), ``sandbox.kit.faults``
(FaultRule, FAULT_KINDS), ``validation`` and ``field_checks`` (validate_invoice_request),
``responses`` (JSON and FAIL envelopes), ``put_invoice`` (the vendor endpoint and fault
answers), ``control`` (``/_sandbox/``), ``connection`` (resetting and dropping connections),
``app`` (create_simulator_app), ``server`` (run_simulator, serve_forever, main) and ``config``
(econt_upstream: the bridge's ``[shops.upstream]`` section for a simulator, see sandbox.config).
"""

from __future__ import annotations

from sandbox.econt.app import create_simulator_app
from sandbox.econt.config import econt_upstream

# The fault defaults were public names (outside __all__) of the single module; still here.
from sandbox.econt.server import (
    RunningSimulator,
    add_arguments,
    main,
    parse_account,
    run_simulator,
    serve_forever,
)
from sandbox.econt.state import (
    DEMO_CLIENT_ID,
    DEMO_TOKEN,
    InvoiceRecord,
    SimulatorState,
)
from sandbox.econt.validation import validate_invoice_request
from sandbox.kit.answers import DEFAULT_RETRY_AFTER as DEFAULT_RETRY_AFTER
from sandbox.kit.answers import DEFAULT_SLOW_DELAY as DEFAULT_SLOW_DELAY
from sandbox.kit.control import SANDBOX_PREFIX
from sandbox.kit.faults import FAULT_KINDS, FaultRule

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_TOKEN",
    "FAULT_KINDS",
    "SANDBOX_PREFIX",
    "FaultRule",
    "InvoiceRecord",
    "RunningSimulator",
    "SimulatorState",
    "add_arguments",
    "create_simulator_app",
    "econt_upstream",
    "main",
    "parse_account",
    "run_simulator",
    "serve_forever",
    "validate_invoice_request",
]
