"""How often the intake tries a delivery (or a spool file) before it is quarantined: a
database refusal or a bug of ours that is not an outage (``bridge.storage.failures``) must
never hold up the deliveries behind it, and must not be given up on at the first try either
(a lock timeout, a deadlock passes)."""

#: how many times a delivery (or a spool file) is tried before it is quarantined
MAX_TRIES = 5
