"""An offline imitation of facturare.md's API (api.facturare.md), for tests,
``invoice-bridge demo --upstream facturare``, the fault suite and trying things out.

What follows the vendor's public page (https://diginet.md/en/service-e-cont-md/integrations/
api; docs/facturare.md):

- HTTP Basic authentication with an API key as the user name and an empty password
  (``curl -u {API_KEY}:``); a missing or unknown key answers 401 "Incorrect or missing API
  key";
- every error answer carries the error object ``{type: "invalid_request"|"api", message,
  param}``, with a status from the documented list (400, 401, 403, 404, 429, 500; faults may
  also answer 422, 502 or 503 -- "any request that did not succeed will return a 4xx or 5xx
  error");
- list endpoints take ``filter[property]=value`` and ``metadata[key]=value`` (exact match;
  objects without the key are left out) and ``expand``; ``GET /invoices/:id``.

What is assumed (``bridge/upstreams/facturare/assumptions.py``, imported here, never
repeated): the resources ``/customers``, ``/invoices``, ``/payments`` (POST creates, 201 with
the object; GET lists, oldest first, paginated with ``page``/``per_page``, ``X-Total-Count``
and ``Link``; GET one), their fields, metadata limits, UNIX timestamps, lower-case currency
codes, decimal strings for amounts, line amounts rounded to the currency's minor units,
exclusive and inclusive taxes, Retry-After on 429, a repeated invoice creating another one.
On top of that the simulator is strict so adapter bugs show early: undefined properties,
unknown query parameters and duplicate JSON keys are refused (400, ``param`` naming the
first problem, the message listing up to five).

Everything under ``/_sandbox/`` is OUR control API: ``GET customers|invoices|payments``,
``GET stats``, ``GET requests``, ``POST reset``, ``POST keys {api_key}``, ``GET|POST config
{latency, customer_faults}``, ``GET|POST|DELETE faults`` (sandbox.kit: "500", "503", "429",
"401", "403", "400", "422", "404", "reset", "gateway" before processing; "slow",
"drop_after_create", "malformed", "empty", "gateway_after_create" after). Faults apply to
creates only (POST); ``customer_faults = false`` spares ``POST /customers``.

Modules: ``state`` (FacturareState, the demo key), ``checks`` (what a create may hold),
``listing`` (filters, pagination, expand), ``responses``, ``app``, ``control``, ``server``,
``config`` (the bridge's ``[shops.upstream]`` for a simulator), ``service`` and ``harness``
(the sandbox's and the contract suite's way in), ``command``.
"""

from __future__ import annotations

from sandbox.facturare.app import create_simulator_app
from sandbox.facturare.config import facturare_upstream
from sandbox.facturare.server import RunningSimulator, run_simulator, serve_forever
from sandbox.facturare.state import DEMO_API_KEY, FacturareState

__all__ = [
    "DEMO_API_KEY",
    "FacturareState",
    "RunningSimulator",
    "create_simulator_app",
    "facturare_upstream",
    "run_simulator",
    "serve_forever",
]
