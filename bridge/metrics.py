"""Prometheus metrics (served at ``/metrics`` by ``bridge.web.metrics``; this module needs no
Flask, so the worker counts with it too).

Counters and histograms count work in the process that does it (with several gunicorn
workers, set ``PROMETHEUS_MULTIPROC_DIR`` to a shared empty folder so they add up). The
gauges that describe the whole system -- rows by state, the oldest due item, paused shops,
the newest worker heartbeat, the intake (oldest unprocessed delivery, quarantined deliveries),
the spool (files waiting, files quarantined) -- are read from the database and the spool at scrape
time, so any replica gives the same answer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

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
from bridge.storage.states import AttemptOutcome, DeliveryOutcome

log = logging.getLogger(__name__)

#: Every label value comes from a closed set, so that no request -- authentic or forged --
#: can add a series: a topic or shop this process does not know is counted as "other" /
#: "unknown", and an outcome missing from these lists as "other" (with a warning, since
#: outcomes come from our own code).
TOPICS = frozenset({"order.created", "order.updated", "order.deleted", "order.restored",
                    "action.*", "ping", ""})
DELIVERY_OUTCOMES = frozenset({"stored", "spooled", "ping", "bad_signature", "unknown_shop"})
PROCESSED_OUTCOMES = frozenset(DeliveryOutcome)
DISPATCH_OUTCOMES = frozenset(AttemptOutcome)
OTHER, UNKNOWN_SHOP = "other", "unknown"

#: the configured shop ids (``register_shops``, called when an app or a worker starts)
_shops: set[str] = set()
_warned: set[str] = set()


def register_shops(shop_ids: Iterable[str]) -> None:
    _shops.update(shop_ids)


def shop_label(shop: Any) -> str:
    return shop if shop in _shops else UNKNOWN_SHOP


def topic_label(topic: Any) -> str:
    """A topic the bridge knows, ``action.*`` for any action topic, else "other"."""
    if topic is None or topic in TOPICS:
        return topic or ""
    if isinstance(topic, str) and topic.startswith("action."):
        return "action.*"
    return OTHER


def _outcome_label(allowed: frozenset[str]) -> Callable[[Any], str]:
    def label(outcome: Any) -> str:
        if outcome in allowed:
            return str(outcome)
        if len(_warned) < 100 and str(outcome) not in _warned:
            _warned.add(str(outcome))
            log.warning("metrics: outcome %r is not in the list of known outcomes; counted as "
                        "'other' (add it to bridge/metrics.py)", str(outcome)[:64])
        return OTHER
    return label


class ClosedLabels:
    """A counter or histogram whose label values are first mapped into closed sets."""

    def __init__(self, metric: Counter | Histogram, **closers: Callable[[Any], str]) -> None:
        self.metric = metric
        self.closers = closers

    def labels(self, **values: Any) -> Any:
        return self.metric.labels(**{name: self.closers[name](value)
                                     for name, value in values.items()})


deliveries = ClosedLabels(Counter(
    "invoice_bridge_deliveries_total",
    "Webhook requests by shop, topic and outcome (stored, spooled, ping, bad_signature, ...).",
    ["shop", "topic", "outcome"],
), shop=shop_label, topic=topic_label, outcome=_outcome_label(DELIVERY_OUTCOMES))
processed = ClosedLabels(Counter(
    "invoice_bridge_deliveries_processed_total",
    "Stored deliveries processed by the worker, by outcome (applied, unchanged, stale, ...).",
    ["shop", "outcome"],
), shop=shop_label, outcome=_outcome_label(PROCESSED_OUTCOMES))
dispatch_attempts = ClosedLabels(Counter(
    "invoice_bridge_dispatch_attempts_total",
    "Upstream dispatch attempts by shop and outcome (created, exists, retry, rejected, ...).",
    ["shop", "outcome"],
), shop=shop_label, outcome=_outcome_label(DISPATCH_OUTCOMES))
listen_lost = Counter(
    "invoice_bridge_worker_listen_lost_total",
    "Times a worker's PostgreSQL LISTEN connection was lost or could not be made (it polls "
    "meanwhile and listens again with backoff).",
)
dispatch_seconds = ClosedLabels(Histogram(
    "invoice_bridge_dispatch_duration_seconds",
    "Time of one upstream call, in seconds.",
    ["shop"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
), shop=shop_label)

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
        tasks = GaugeMetricFamily(
            "invoice_bridge_tasks",
            "Follow-up tasks (payments, cancellations, corrections) and write-backs to the "
            "shop (kind write-back) by shop, kind and state.",
            labels=["shop", "kind", "state"])
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
                for shop, kinds in queries.tasks_by_state(session).items():
                    for kind, states in kinds.items():
                        for state, count in states.items():
                            tasks.add_metric([shop, kind, state], count)
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
            yield from (rows, paused, oldest, heartbeat, quarantined, unprocessed, tasks)
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


def exposition(runtime: Any) -> bytes:
    """The Prometheus text: this process's counters (or, with ``PROMETHEUS_MULTIPROC_DIR``,
    every process's) and the system gauges read now."""
    system = CollectorRegistry(auto_describe=False)
    system.register(SystemCollector(runtime))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
    else:
        counters = REGISTRY
    return generate_latest(counters) + generate_latest(system)
