"""What every upstream simulator in the sandbox shares, so that each one is only its
service's own API (routes, validation, error envelope, invoices):

- ``faults``: the fault switches (``FaultRule``, the kinds) and ``FaultInjector`` -- queued
  and seeded faults, held answers, interruptible sleeps;
- ``answers``: how a fault turns into what the client sees (a gateway's HTML page, a reset,
  an answer held back, dropped or mangled), around the service's own error answer;
- ``connection``: resetting or dropping the connection for real (werkzeug handler);
- ``serving``: a simulator served on a background thread (tests, demo) or in the
  foreground (``invoice-bridge sandbox KIND``);
- ``control``: the fault part of every simulator's control API (``/_sandbox/faults``).
"""
