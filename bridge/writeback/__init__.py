"""Write-back: the invoice, or the reason it is missing, shown on the shop's order.

Shop staff live in WooCommerce > Orders. For a shop with ``[shops.woocommerce] write_back``,
every order whose row stops in ``synced``, ``failed``, ``review``, ``invalid`` or ``skipped``
gets a note ("Invoice EC-000123 issued in e-Cont.md", or the reason and what to do) and
``_invoice_bridge_*`` meta, through the shop's REST API:

- ``text``: what is written for a row (bounded note, meta, and the key naming it);
- ``plan``: finds rows whose write-back is due (a sweep over recently updated rows, so
  every path that settles a row -- intake, dispatch, reaper, operator -- is covered without
  a hook in each) and keeps one ``order_writebacks`` item per order, holding the latest;
- ``dispatch``: claims, sends and records items with the dispatcher's rules (leases,
  retries with backoff, the shop's rate limit, a pause when the key is refused), apart from
  invoicing: a shop that is down never holds an invoice back.

Nothing is written twice: the meta ``_invoice_bridge_key`` records what the order shows,
and an item sent before is read back (meta, then notes) before anything is written again.
The shop answers our own update with an ``order.updated`` webhook; the intake recognises it
(``bridge.intake.echo``) and does nothing.
"""
