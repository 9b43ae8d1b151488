"""Prometheus metrics. Counters and histograms live in the process that does the work; the
gauges that describe the whole system (rows by state, oldest due item, spool size) are read
from the database and the spool at scrape time, so any replica can answer ``/metrics``.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

deliveries = Counter(
    "invoice_bridge_deliveries_total",
    "Webhook requests by shop, topic and outcome (stored, spooled, ping, bad_signature, ...).",
    ["shop", "topic", "outcome"],
)
processed = Counter(
    "invoice_bridge_deliveries_processed_total",
    "Stored deliveries processed by the worker, by outcome (applied, unchanged, stale, ...).",
    ["shop", "outcome"],
)
dispatch_attempts = Counter(
    "invoice_bridge_dispatch_attempts_total",
    "Upstream dispatch attempts by shop and outcome (created, exists, retry, rejected, ...).",
    ["shop", "outcome"],
)
dispatch_seconds = Histogram(
    "invoice_bridge_dispatch_duration_seconds",
    "Time of one upstream call, in seconds.",
    ["shop"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
