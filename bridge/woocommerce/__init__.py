"""The shop side: a WooCommerce-faithful webhook sender (for tests, the demo and benchmarks),
sample orders, and (for backfill) the WooCommerce REST API client and its simulator."""
