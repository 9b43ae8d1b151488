"""An offline imitation of FACTURAgem's API v1 (facturagem.com/api/v1), for tests,
``invoice-bridge demo --upstream facturagem``, the fault suite and trying things out
(``invoice-bridge sandbox facturagem``).

What follows the vendor's documentation (https://facturagem.com/developers/api_docs;
summarised in docs/facturagem.md):

- ``POST session.json`` with ``login`` and ``password`` returns the user with its
  ``api_key`` -- the same key on every login; ``DESTROY`` (DELETE) on session.json ends it on
  every device; every other request needs the key, or it is a 401; ``countries.json`` needs
  none;
- the resources and their verbs: accounts (GET the user's, GET/PUT one, which must be the
  user's), clients (list, create, get, update, destroy), invoices (list, list by client,
  new.json prefilled, create, get, update, destroy) and an invoice's payments (POST);
- ``.json`` at the end of every URL (``.xml`` is a 406 here: the simulator speaks no XML);
- GET and POST answer 200 with the resource, PUT and DESTROY with the status only;
  collections are summaries with ``links``, paged by ``page`` until an empty page;
- validation errors are 422 with the resource and an ``errors`` field; an unexpected
  parameter is a 422 with the allowed ones, unless ``strict`` is "false" or "0".

What is our assumption (``bridge/upstreams/facturagem/assumptions.py``, shared with the
adapter, and ``params.py``): where the api_key is read (query string or body: both), JSON
bodies with the resource under its name, every field and its rules, the error body of other
statuses, how invoices add up (cents, IVA added to or taken out of the prices), numbering
("2026/0001" per account and year) and dating (today), the page size (25, ``--page-size``),
what a list entry holds (``--summaries full``: enough to find a client by tax id or e-mail
and an invoice by its notes; ``brief``: only id, name or number, date, total), payments
refused beyond the amount due.

Everything under ``/_sandbox/`` is OUR control API (FACTURAgem has nothing like it):
``GET invoices``, ``GET clients``, ``GET stats``, ``POST reset``, ``POST users``, ``POST
revoke`` (every key stops working), ``GET|POST config {latency, page_size, summaries,
faults_on_clients}``, ``GET|POST|DELETE faults``.

Faults (``sandbox.kit.faults``, the same switches as every simulator) apply to the requests
that create or change something -- the login, invoices, payments, the account; clients
only with ``faults_on_clients`` -- so a fault queued for "the next request" reaches the
invoice it was meant for, not the client created on the way.

Modules: ``state`` (users, sessions, clients, invoices, payments, switches), ``params``
(allowed parameters and field rules), ``resources`` (the operations), ``app`` (routing,
authentication, strictness, faults), ``responses``, ``control`` (``/_sandbox/``), ``server``,
``config`` (the bridge's ``[shops.upstream]`` section), ``service`` and ``harness`` (the
demo, the fault suite and the contract suite), ``command`` (``invoice-bridge sandbox
facturagem``).
"""
