"""Dispatch: orders per second from ``invoice-bridge worker`` to the e-Cont.md simulator.

- no added latency: the worker (one request in flight, like the baseline; and with its
  default concurrency of 4) against a bare ``requests.Session`` loop posting the same bodies
  to the same simulator, best of three alternating rounds (one with ``--quick``);
- 100 ms of simulated upstream latency: the worker with ``concurrency`` C against the ideal
  C / 0.1 s, and once more with a rate limit below that, against the rate limit; best of two
  alternating rounds each (one with ``--quick``).

The worker's throughput comes from its own records, the ``synced_at`` of each order, in
steady state: the first tenth of the orders (start-up, first connection) is left out. The
baseline is timed from its first request to its last answer, after a warm-up run.

    python -m bench.dispatch [--db sqlite|postgres] [--quick]

Targets (issue 5): >= 0.7x the bare loop; >= 0.9 x C / 0.1 s with 100 ms latency, up to the
configured rate limit.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import func, select

from bench.backlog import payload_for, seed_sync_rows, template_payload
from bench.common import (
    BIN,
    Process,
    free_port,
    new_database,
    ratio,
    running,
    save,
    wait_http,
    workdir,
    write_config,
)
from bridge.config.load import load_settings
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import OrderSync
from bridge.upstreams.econt.assumptions import PUT_INVOICE_PATH
from sandbox.econt import DEMO_CLIENT_ID, DEMO_TOKEN


@dataclass
class Simulator:
    port: int
    latency: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def process(self) -> Process:
        return Process([str(BIN / "invoice-bridge"), "sandbox", "econt", "--port",
                        str(self.port), "--latency", str(self.latency)])


def baseline_loop(simulator: Simulator, template: dict[str, Any], first: int,
                  count: int, concurrency: int = 1) -> float:
    """Orders per second of ``concurrency`` threads, each posting the bodies one after
    another on its own ``requests.Session``."""
    connect = {"client": DEMO_CLIENT_ID, "token": DEMO_TOKEN, "language": "ro"}
    bodies = [{"connect": connect, **payload_for(template, order_id)}
              for order_id in range(first, first + count)]
    url = simulator.url + PUT_INVOICE_PATH

    def post_all(share: list[dict[str, Any]]) -> None:
        with requests.Session() as session:
            for body in share:
                response = session.post(url, json=body, timeout=30)
                response.raise_for_status()
                response.json()

    shares = [bodies[index::concurrency] for index in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post_all, shares))
    return count / (time.perf_counter() - started)


def worker_run(simulator: Simulator, database: str, *, first: int, count: int,
               concurrency: int, workers: int = 1, rate_limit: float = 0,
               listen: bool = True) -> dict[str, Any]:
    """Seed ``count`` due orders, run ``workers`` worker processes until all are synced;
    ``listen=False``: with ``dispatch.listen`` off (no LISTEN / data_version thread)."""
    directory = workdir("dispatch")
    db_url = new_database(database, directory)
    config = write_config(directory, db_url=db_url, upstream=simulator.url, rate_limit=rate_limit,
                          changes={"dispatch": {"concurrency": concurrency,
                                                "poll_interval": "100ms", "listen": listen}})
    settings = load_settings(config)
    db = Database.from_settings(settings.database)
    upgrade(db)
    seed_sync_rows(db, settings, count=count, first=first)
    processes = [Process([str(BIN / "invoice-bridge"), "worker"],
                         env={"INVOICE_BRIDGE_CONFIG": str(config)},
                         log=directory / f"worker-{index}.log") for index in range(workers)]
    try:
        with running(*processes):
            t0 = time.monotonic()
            deadline = t0 + 60 + count / 5
            while _count(db, "synced") < count:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"not all synced after {time.monotonic() - t0:.0f}s: "
                                       f"{_states(db)} (of {count})")
                time.sleep(0.2)
        with db.read() as session:
            done = sorted(session.scalars(select(OrderSync.synced_at)).all())
    finally:
        db.dispose()
    # Steady state: the first tenth (at least one wave of ``concurrency``) warms the worker
    # up (first connection, lazy imports) and is left out.
    warmup = max(concurrency * workers, count // 10)
    seconds = (done[-1] - done[warmup - 1]).total_seconds()
    return {"orders": count, "measured_orders": count - warmup, "seconds": round(seconds, 3),
            "orders_per_second": round((count - warmup) / seconds, 1)}


def _states(db: Database) -> dict[str, int]:
    with db.read() as session:
        return dict(session.execute(select(OrderSync.state, func.count())  # type: ignore[arg-type]
                                    .group_by(OrderSync.state)).all())


def _count(db: Database, state: str) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OrderSync)
                                  .where(OrderSync.state == state)) or 0)


def no_latency(database: str, *, orders: int, rounds: int) -> dict[str, Any]:
    simulator = Simulator(free_port(), 0.0)
    with running(simulator.process()):
        wait_http(simulator.url + "/_sandbox/stats")
        template = _template()
        next_id = 1
        runs: dict[str, list[float]] = {"baseline": [], "worker_c1": [], "worker_c4": [],
                                        "worker_c4_no_listen": []}
        baseline_loop(simulator, template, 10_000_000, 200)  # warm the simulator up
        for _ in range(rounds):
            runs["baseline"].append(baseline_loop(simulator, template, next_id, orders))
            next_id += orders
            for label, concurrency, listen in (("worker_c1", 1, True), ("worker_c4", 4, True),
                                               ("worker_c4_no_listen", 4, False)):
                result = worker_run(simulator, database, first=next_id, count=orders,
                                    concurrency=concurrency, listen=listen)
                runs[label].append(result["orders_per_second"])
                next_id += orders
    best = {label: max(values) for label, values in runs.items()}
    return {"orders_per_run": orders, "rounds": rounds,
            "baseline_orders_per_second": round(best["baseline"], 1),
            "worker_c1_orders_per_second": best["worker_c1"],
            "worker_c4_orders_per_second": best["worker_c4"],
            "ratio_c1": ratio(best["worker_c1"], best["baseline"]),
            "ratio_c4": ratio(best["worker_c4"], best["baseline"]),
            # the same worker with dispatch.listen off: what listening costs a busy worker
            "worker_c4_no_listen_orders_per_second": best["worker_c4_no_listen"],
            "ratio_c4_no_listen": ratio(best["worker_c4_no_listen"], best["baseline"]),
            "target_ratio": 0.7, "runs": runs}


def with_latency(database: str, *, concurrencies: tuple[int, ...], seconds: float,
                 rate_limit: float, rounds: int = 1) -> dict[str, Any]:
    """The worker against the ideal C / latency, and against C bare sessions on the same
    simulator (whose own service time the ideal leaves out); best of ``rounds`` each."""
    latency = 0.1
    simulator = Simulator(free_port(), latency)
    results = []
    with running(simulator.process()):
        wait_http(simulator.url + "/_sandbox/stats")
        template = _template()
        next_id = 1
        cases = [(c, 0.0) for c in concurrencies]
        cases.append((max(concurrencies), rate_limit))
        for concurrency, limit in cases:
            ideal = concurrency / latency
            expected = min(ideal, limit) if limit else ideal
            count = max(50, int(expected * seconds))
            bare_runs: list[float] = []
            worker_runs: list[dict[str, Any]] = []
            for _ in range(rounds):
                bare_runs.append(round(baseline_loop(simulator, template, next_id, count,
                                                     concurrency), 1))
                next_id += count
                worker_runs.append(worker_run(simulator, database, first=next_id, count=count,
                                              concurrency=concurrency, rate_limit=limit))
                next_id += count
            bare = max(bare_runs)
            result = max(worker_runs, key=lambda run: run["orders_per_second"])
            results.append({"concurrency": concurrency, "rate_limit": limit or None,
                            "expected_orders_per_second": expected, **result,
                            "ratio": ratio(result["orders_per_second"], expected),
                            "bare_sessions_orders_per_second": bare,
                            "ratio_to_bare_sessions": None if limit else
                            ratio(result["orders_per_second"], bare),
                            "target_ratio": 0.9, "rounds": rounds,
                            "runs": {"bare_sessions": bare_runs, "worker": [
                                run["orders_per_second"] for run in worker_runs]}})
    return {"latency_seconds": latency, "cases": results}


def listen_ab(database: str, *, orders: int, rounds: int) -> dict[str, Any]:
    """The default worker (4 in flight, no added latency) with ``dispatch.listen`` on and
    off, alternating for ``rounds`` rounds: what the LISTEN (PostgreSQL) or data_version
    (SQLite) thread costs a worker draining a backlog."""
    simulator = Simulator(free_port(), 0.0)
    runs: dict[str, list[float]] = {"listen": [], "no_listen": []}
    with running(simulator.process()):
        wait_http(simulator.url + "/_sandbox/stats")
        baseline_loop(simulator, _template(), 10_000_000, 200)  # warm the simulator up
        next_id = 1
        for _ in range(rounds):
            for label, listen in (("no_listen", False), ("listen", True)):
                runs[label].append(worker_run(simulator, database, first=next_id, count=orders,
                                              concurrency=4, listen=listen)["orders_per_second"])
                next_id += orders
    median = {label: sorted(values)[len(values) // 2] for label, values in runs.items()}
    return {"database": database, "orders_per_run": orders, "rounds": rounds, "runs": runs,
            "median": median, "best": {label: max(values) for label, values in runs.items()},
            "ratio_median": ratio(median["listen"], median["no_listen"]),
            "ratio_best": ratio(max(runs["listen"]), max(runs["no_listen"]))}


def _template() -> dict[str, Any]:
    directory = workdir("dispatch-template")
    return template_payload(load_settings(write_config(
        directory, db_url=f"sqlite:///{directory / 'unused.db'}")))


def concurrency_note(case: dict[str, Any]) -> str:
    return (f"bare sessions {case['bare_sessions_orders_per_second']}/s"
            + (f" -> {case['ratio_to_bare_sessions']}x" if case["ratio_to_bare_sessions"] else ""))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="dispatch benchmark")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--listen-ab", type=int, default=0, metavar="ROUNDS",
                        help="only compare the worker with dispatch.listen on and off, "
                             "alternating for ROUNDS rounds")
    args = parser.parse_args(argv)
    orders, rounds, seconds = (300, 1, 2.0) if args.quick else (2000, 3, 6.0)
    if args.listen_ab:
        ab = listen_ab(args.db, orders=orders, rounds=args.listen_ab)
        print(f"{args.db}, 4 in flight, no latency: listen {ab['runs']['listen']}/s, off "
              f"{ab['runs']['no_listen']}/s; on/off {ab['ratio_median']}x (medians), "
              f"{ab['ratio_best']}x (best)")
        save(f"dispatch-listen-{args.db}", ab)
        return ab
    report = {"database": args.db, "quick": args.quick,
              "no_latency": no_latency(args.db, orders=orders, rounds=rounds),
              "latency_100ms": with_latency(args.db, concurrencies=(1, 4, 16), seconds=seconds,
                                            rate_limit=50.0, rounds=1 if args.quick else 2)}
    nl = report["no_latency"]
    print(f"{args.db}, no latency: bare loop {nl['baseline_orders_per_second']}/s; worker "
          f"(1 in flight) {nl['worker_c1_orders_per_second']}/s -> {nl['ratio_c1']}x, worker "
          f"(4 in flight) {nl['worker_c4_orders_per_second']}/s -> {nl['ratio_c4']}x "
          f"(target 0.7x); listen off {nl['worker_c4_no_listen_orders_per_second']}/s -> "
          f"{nl['ratio_c4_no_listen']}x")
    for case in report["latency_100ms"]["cases"]:
        limit = f", rate limit {case['rate_limit']:g}/s" if case["rate_limit"] else ""
        print(f"{args.db}, 100 ms latency, concurrency {case['concurrency']}{limit}: "
              f"{case['orders_per_second']}/s vs expected {case['expected_orders_per_second']:g}"
              f"/s -> {case['ratio']}x (target 0.9x); {concurrency_note(case)}")
    save(f"dispatch-{args.db}" + ("-quick" if args.quick else ""), report)
    return report


if __name__ == "__main__":
    main()
