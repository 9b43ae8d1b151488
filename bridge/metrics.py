"""Prometheus metrics at ``/metrics``.

Counters and histograms count work in the process that does it (with several gunicorn
workers, set ``PROMETHEUS_MULTIPROC_DIR`` to a shared empty folder so they add up). The
gauges that describe the whole system -- rows by state, the oldest due item, paused shops,
the newest worker heartbeat, the intake (oldest unprocessed delivery, quarantined deliveries),
the spool (files waiting, files quarantined) -- are read from the database and the spool at scrape
time, so any replica gives the same answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select

from bridge.clock import utcnow

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

bp = Blueprint("metrics", __name__)


class SystemCollector(Collector):
    """Gauges read from the database and the spool on each scrape."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        from bridge.intake.backlog import intake_backlog
        from bridge.storage import queries
        from bridge.storage.models import ShopState

        now = utcnow()
        rows = GaugeMetricFamily("invoice_bridge_rows", "Sync rows by shop and state.",
                                 labels=["shop", "state"])
        paused = GaugeMetricFamily("invoice_bridge_shop_paused",
                                   "1 if the shop's dispatch is paused.", labels=["shop"])
        up = GaugeMetricFamily("invoice_bridge_database_up", "1 if the database answered.")
        oldest = GaugeMetricFamily("invoice_bridge_oldest_due_seconds",
                                   "How long the longest-waiting due row has waited.")
        heartbeat = GaugeMetricFamily("invoice_bridge_worker_heartbeat_age_seconds",
                                      "Age of the newest worker heartbeat.")
        quarantined = GaugeMetricFamily(
            "invoice_bridge_deliveries_quarantined",
            "Deliveries whose processing failed too often; they need a person.",
            labels=["shop"])
        unprocessed = GaugeMetricFamily(
            "invoice_bridge_oldest_unprocessed_delivery_seconds",
            "How long the oldest stored, not yet processed delivery has waited.")
        try:
            with self.runtime.db.read() as session:
                for shop, states in queries.counts_by_state(session).items():
                    for state, count in states.items():
                        rows.add_metric([shop, state], count)
                paused_shops = set(session.execute(select(ShopState.shop).where(
                    ShopState.paused.is_(True))).scalars())
                due = queries.oldest_due(session, now)
                newest = queries.latest_heartbeat(session)
                intake = intake_backlog(session)
            for shop in self.runtime.settings.shops:
                paused.add_metric([shop], 1.0 if shop in paused_shops else 0.0)
            oldest.add_metric([], (now - due).total_seconds() if due else 0.0)
            if newest is not None:
                heartbeat.add_metric([], (now - newest).total_seconds())
            # configured shops always (0 is a value to alert on); others if they have any
            for shop in sorted({*self.runtime.settings.shops, *intake.quarantined}):
                quarantined.add_metric([shop], float(intake.quarantined.get(shop, 0)))
            unprocessed.add_metric([], intake.oldest_unprocessed_age(now))
            up.add_metric([], 1.0)
            yield from (rows, paused, oldest, heartbeat, quarantined, unprocessed)
        except Exception:
            up.add_metric([], 0.0)
        yield up
        spool = GaugeMetricFamily("invoice_bridge_spool_files",
                                  "Deliveries spooled to disk, waiting for the database.")
        spool.add_metric([], float(self.runtime.store.spool.size()))
        yield spool
        spool_quarantined = GaugeMetricFamily(
            "invoice_bridge_spool_quarantined_files",
            "Spool files that could not be read or imported, moved to quarantine/.")
        spool_quarantined.add_metric([], float(self.runtime.store.spool.quarantined()))
        yield spool_quarantined


@bp.get("/metrics")
def metrics() -> Response:
    from bridge.web import current_runtime

    system = CollectorRegistry(auto_describe=False)
    system.register(SystemCollector(current_runtime()))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters)
    else:
        counters = REGISTRY
    body = generate_latest(counters) + generate_latest(system)
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")
