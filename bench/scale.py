"""Scale: does the bridge slow down as its tables grow, and does the worker's memory stay flat?

1. Two databases, one holding 1,000 synced orders (and a delivery each), one 1,000,000
   (``--quick``: 100,000). On each, alternating: the acknowledgement latency of signed
   deliveries at 100/s through gunicorn (new order ids), and the latency of claiming due
   work (``claim_due``, 4 at a time, as a worker does) with 1,000 orders due.
   Target: the large database within 1.2x of the small one.
2. A worker draining a 100,000-order backlog (``--quick``: 10,000) to the simulator, its RSS
   sampled from /proc every half second. Target: flat (the end within 1.2x of the RSS once
   the first tenth is done).

    python -m bench.scale [--db sqlite|postgres] [--quick] [--part latency|memory|both]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench.backlog import seed_history, seed_sync_rows
from bench.common import (
    BIN,
    Process,
    RssSampler,
    free_port,
    new_database,
    percentile,
    ratio,
    running,
    save,
    wait_http,
    workdir,
    write_config,
)
from bench.dispatch import Simulator
from bench.ingest import GUNICORN, SECRET, gunicorn, open_loop, signed
from bridge.config.load import load_settings
from bridge.config.model import Settings
from bridge.dispatch.claims import claim_due
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import OrderSync
from sandbox.woocommerce.samples import build_order

DUE = 1000


def prepare(database: str, size: int) -> tuple[Path, Settings, Database]:
    directory = workdir(f"scale-{size}")
    config = write_config(directory, db_url=new_database(database, directory), secret=SECRET)
    settings = load_settings(config)
    db = Database.from_settings(settings.database)
    upgrade(db)
    started = time.monotonic()
    seed_history(db, settings, count=size)
    with db.engine.connect() as connection:  # statistics, as autovacuum/ANALYZE would keep
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE" if db.is_postgres else "ANALYZE"))
    print(f"  seeded {size:,} synced orders in {time.monotonic() - started:.0f}s")
    return config, settings, db


def deliveries(first_order: int, count: int) -> list[tuple[bytes, list[tuple[str, str]]]]:
    """Signed order.created deliveries for new order ids (each a new sync row)."""
    return [signed(build_order(order_id=order_id))
            for order_id in range(first_order, first_order + count)]


def claim_latencies(db: Database, settings: Settings, first: int) -> list[float]:
    """Milliseconds per claim of 4, until the DUE freshly seeded due orders are claimed."""
    seed_sync_rows(db, settings, count=DUE, first=first)
    timings = []
    while True:
        started = time.perf_counter()
        claims = claim_due(db, shops=["shop"], worker_id="bench", limit=4, lease_seconds=60,
                           now=datetime.now(UTC))
        timings.append((time.perf_counter() - started) * 1000)
        if not claims:
            return timings[:-1]


def latency_part(database: str, *, large: int, rounds: int, seconds: float) -> dict[str, Any]:
    sizes = {"small": 1_000, "large": large}
    prepared = {label: prepare(database, size) for label, size in sizes.items()}
    ports = {label: free_port() for label in sizes}
    servers = [gunicorn("bridge.web:create_app()", ports[label], GUNICORN[database],
                        {"INVOICE_BRIDGE_CONFIG": str(prepared[label][0])}) for label in sizes]
    ingest: dict[str, list[dict[str, Any]]] = {label: [] for label in sizes}
    claims: dict[str, list[float]] = {label: [] for label in sizes}
    next_order = 10_000_000  # above every seeded id: each delivery creates a row
    with running(*servers):
        for label in sizes:
            wait_http(f"http://127.0.0.1:{ports[label]}/healthz")
            # warm up (threads, connections, statement caches); not measured
            open_loop(ports[label], deliveries(next_order, 200), rate=100, seconds=2)
            next_order += 200
        for _ in range(rounds):
            for label in sizes:  # alternate, so machine drift hits both alike
                count = int(100 * seconds)
                result = open_loop(ports[label], deliveries(next_order, count),
                                   rate=100, seconds=seconds)
                next_order += count
                ingest[label].append(result)
                _, settings, db = prepared[label]
                claims[label] += claim_latencies(db, settings, next_order)
                next_order += DUE
    for _, _, db in prepared.values():
        db.dispose()
    summary: dict[str, Any] = {"sizes": sizes, "rounds": rounds}
    for label in sizes:
        runs = ingest[label]
        summary[label] = {
            "ingest_p50_ms": round(min(r["p50_ms"] for r in runs), 2),
            "ingest_p99_ms": round(min(r["p99_ms"] for r in runs), 2),
            "claim_p50_ms": round(percentile(claims[label], 50), 3),
            "claim_p99_ms": round(percentile(claims[label], 99), 3),
            "claims_timed": len(claims[label]), "ingest_runs": runs,
        }
    summary["ratios"] = {key: ratio(summary["large"][key], summary["small"][key])
                         for key in ("ingest_p50_ms", "ingest_p99_ms", "claim_p50_ms",
                                     "claim_p99_ms")}
    summary["target_ratio"] = 1.2
    return summary


def memory_part(database: str, *, backlog: int) -> dict[str, Any]:
    directory = workdir("scale-memory")
    simulator = Simulator(free_port(), 0.0)
    config = write_config(directory, db_url=new_database(database, directory),
                          upstream=simulator.url,
                          changes={"dispatch": {"concurrency": 4, "poll_interval": "100ms"}})
    settings = load_settings(config)
    db = Database.from_settings(settings.database)
    upgrade(db)
    seed_sync_rows(db, settings, count=backlog)
    worker = Process([str(BIN / "invoice-bridge"), "worker"],
                     env={"INVOICE_BRIDGE_CONFIG": str(config)}, log=directory / "worker.log")
    progress: list[tuple[float, int]] = []
    with running(simulator.process()):
        wait_http(simulator.url + "/_sandbox/stats")
        started = time.monotonic()
        with running(worker), RssSampler(worker.pid) as sampler:
            while True:
                with db.read() as session:
                    done = int(session.scalar(select(func.count()).select_from(OrderSync)
                                              .where(OrderSync.state == "synced")) or 0)
                progress.append((time.monotonic() - started, done))
                if done >= backlog:
                    break
                time.sleep(2)
    db.dispose()
    samples = sampler.samples
    tenth = next(t for t, done in progress if done >= backlog // 10)
    after_tenth = [kib for t, kib in samples if t >= tenth]
    at_tenth, peak, end = after_tenth[0], max(after_tenth), after_tenth[-1]
    return {"backlog": backlog, "seconds": round(progress[-1][0], 1),
            "orders_per_second": round(backlog / progress[-1][0], 1),
            "rss_kib_at_first_tenth": at_tenth, "rss_kib_peak": peak, "rss_kib_end": end,
            "rss_kib_first_sample": samples[0][1],
            "ratio_end_to_first_tenth": ratio(end, at_tenth),
            "ratio_peak_to_first_tenth": ratio(peak, at_tenth), "target_ratio": 1.2,
            "samples": samples[:: max(1, len(samples) // 200)]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="scale benchmark")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--part", choices=("latency", "memory", "both"), default="both")
    args = parser.parse_args(argv)
    large, rounds, seconds, backlog = ((100_000, 1, 3.0, 10_000) if args.quick
                                       else (1_000_000, 3, 10.0, 100_000))
    report: dict[str, Any] = {"database": args.db, "quick": args.quick}
    if args.part in ("latency", "both"):
        lat = report["latency"] = latency_part(args.db, large=large, rounds=rounds,
                                               seconds=seconds)
        for key, value in lat["ratios"].items():
            print(f"{args.db}: {key} with {large:,} rows {lat['large'][key]} vs 1,000 rows "
                  f"{lat['small'][key]} -> {value}x (target <= 1.2x)")
    if args.part in ("memory", "both"):
        mem = report["memory"] = memory_part(args.db, backlog=backlog)
        print(f"{args.db}: worker RSS draining {backlog:,} orders: {mem['rss_kib_at_first_tenth']}"
              f" KiB after the first tenth, {mem['rss_kib_end']} KiB at the end, peak "
              f"{mem['rss_kib_peak']} KiB -> {mem['ratio_end_to_first_tenth']}x (target <= 1.2x)"
              f"; {mem['orders_per_second']} orders/s")
    save(f"scale-{args.db}-{args.part}" + ("-quick" if args.quick else ""), report)
    return report


if __name__ == "__main__":
    main()
