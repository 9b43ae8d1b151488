"""Mapping: a WooCommerce v3 order (JSON) -> an upstream-neutral ``InvoiceDraft``.

Public entry points:

- ``read_snapshot_header(data)`` -> ``SnapshotHeader`` (order id, number, status,
  date_modified_gmt); raises ``MappingError`` only if the order id itself is unusable;
- ``map_order(data, shop)`` -> ``InvoiceDraft``; raises ``MappingError`` naming every field
  that is wrong and why.
"""
