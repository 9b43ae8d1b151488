"""An offline imitation of Fakturoid API v3 (app.fakturoid.cz/api/v3), for tests,
``invoice-bridge demo --upstream fakturoid``, the fault suite and ``invoice-bridge sandbox
fakturoid``. docs/fakturoid.md describes it; the facts it shares with the adapter live in
``bridge/upstreams/fakturoid/assumptions.py`` and are imported, never repeated.

What follows the vendor documentation (https://www.fakturoid.cz/api/v3):

- every request needs ``User-Agent`` (else 400 ``{"error": "invalid_request",
  "error_description": "Required header \\"User-Agent\\" is missing"}``); another response
  type than JSON is 415; rate-limit headers (``X-RateLimit-Policy: default;q=400;w=60``,
  ``X-RateLimit: default;r=..;t=..``) on every answer, 429 over the quota;
- ``POST /oauth/token``: Client ID and Secret only in ``Authorization: Basic`` (in the body:
  Fakturoid's ``invalid_request`` refusal), ``grant_type=client_credentials`` (JSON or form),
  ``{access_token, token_type, expires_in: 7200}``; tokens expire by the simulator's clock;
- ``Authorization: Bearer`` on the account's API, the slug in the path; ``GET /user.json``,
  ``/accounts/{slug}/account.json``; subjects (``custom_id`` filter, ``name`` required),
  invoices (filters; ``subject_id`` required and must exist; ``exchange_rate`` required when
  the currency is not the account's; corrections with ``correction_id``; totals per
  ``vat_price_mode``), ``fire.json?event=`` (204 / 422 "cannot be fired"), payments (amount
  defaults to the remaining amount; 403 on a paid invoice); 40 records per page, an empty
  page past the end; 201 with ``Location``; the two error body shapes; 402 for a blocked
  account, 403 without a bank account, 503 in read-only mode.

What is ours (assumptions, in assumptions.py, or strictness so adapter bugs show): invoice
``custom_id`` is not unique, subject ``custom_id`` is; Fakturoid's rounding (per line, 2
places); the bodies of 401/404/429/5xx; unknown or read-only attributes are refused; an
invoice needs a line; a non-VAT-payer account refuses a non-zero VAT rate; which accounts
may cancel (switch ``cancel_allowed``); lists come newest first.

Everything under ``/_sandbox/`` is OUR control API: ``GET invoices``, ``GET subjects``,
``GET stats``, ``GET requests``, ``POST reset``, ``GET|POST config`` (switches:
token_lifetime, invalidate_previous_tokens, cancel_allowed, retry_after_header, rate_quota,
rate_window, latency, read_only, fault_targets), ``POST clock {"advance": s}``, ``POST
accounts`` (vat_payer, has_bank_account, blocked, subject_limit, currency), ``POST
clients``, ``DELETE clients/<id>``, ``POST tokens/expire``, ``GET|POST|DELETE faults``.

Faults (``sandbox.kit.faults``) apply to writes (POST) of the endpoints in
``fault_targets`` (subjects, invoices, payments, events), never to the token endpoint.

Modules: ``state`` and ``records`` (what it holds), ``validation``, ``oauth`` (token endpoint
and bearer check), ``views`` (the account's API), ``responses``, ``control``, ``app``,
``server``, ``service`` (the demo's and the fault suite's handle), ``harness`` (contract
suite), ``command`` and ``config``.
"""

from sandbox.fakturoid.app import create_simulator_app
from sandbox.fakturoid.config import fakturoid_upstream
from sandbox.fakturoid.server import RunningSimulator, run_simulator, serve_forever
from sandbox.fakturoid.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SLUG,
    DEMO_USER_AGENT,
    SimulatorState,
)

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SLUG",
    "DEMO_USER_AGENT",
    "RunningSimulator",
    "SimulatorState",
    "create_simulator_app",
    "fakturoid_upstream",
    "run_simulator",
    "serve_forever",
]
