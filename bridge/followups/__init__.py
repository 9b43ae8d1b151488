"""Follow-ups: what happens to an order after its invoice exists.

- ``plan``: (in the intake) which tasks an order's snapshot calls for -- record the payment
  once it is paid; cancel the invoice or issue a correction when the order is cancelled or
  refunded, as the shop's ``after_cancel`` says (or stop it for a person);
- ``actions``: per task kind, whether an upstream can do it and the request it sends.

The tasks themselves are rows of ``order_tasks``, dispatched like invoices (claims, leases,
retries with backoff, the shop's rate limit and pause) by ``bridge.dispatch.tasks``. Each kind
has a lookup (``find_payment``, ...), so an action whose answer was lost is looked up before
it is sent again: never two payments or two corrections.
"""
