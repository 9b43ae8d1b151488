"""Intake: what happens to a delivery after the receiver verified it.

- ``store``: write it durably (database, or the local spool when the database is down)
  before WooCommerce gets its 2xx;
- ``spool``: the fsync'd file spool and its importer;
- ``process``: (in the worker) interpret the topic, apply the order snapshot to its sync
  row -- newer wins, unchanged is a no-op, bad content is recorded with a reason.
"""
