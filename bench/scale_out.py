"""Scale-out on PostgreSQL: 1, 2 and 4 ``invoice-bridge worker`` processes on one database,
draining the same backlog to the e-Cont.md simulator with 50 ms of upstream latency.

Each worker runs with ``concurrency = 1`` (``--concurrency`` to change it), so the figure
shows what adding processes buys -- claims with SKIP LOCKED not getting in each other's way
-- rather than what threads inside one process do. The baseline is one worker, measured in
the same run; rounds alternate 1, 2, 4, 1, 2, 4, ...

    python -m bench.scale_out [--quick] [--concurrency N]

Target (issue 5): 4 workers >= 3.5x one worker.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.common import free_port, ratio, running, save, wait_http
from bench.dispatch import Simulator, worker_run

WORKER_COUNTS = (1, 2, 4)
LATENCY = 0.05


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="scale-out benchmark (PostgreSQL)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    seconds, rounds = (3.0, 1) if args.quick else (8.0, 3)
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in WORKER_COUNTS}
    simulator = Simulator(free_port(), LATENCY)
    with running(simulator.process()):
        wait_http(simulator.url + "/_sandbox/stats")
        next_id = 1
        for _ in range(rounds):
            for workers in WORKER_COUNTS:
                ideal = workers * args.concurrency / LATENCY
                count = max(100, int(ideal * seconds))
                runs[workers].append(worker_run(simulator, "postgres", first=next_id,
                                                count=count, concurrency=args.concurrency,
                                                workers=workers))
                next_id += count
    best = {n: max(r["orders_per_second"] for r in results) for n, results in runs.items()}
    report = {
        "database": "postgres", "quick": args.quick, "latency_seconds": LATENCY,
        "concurrency_per_worker": args.concurrency, "rounds": rounds,
        "orders_per_second": best,
        "speedup": {n: ratio(best[n], best[1]) for n in WORKER_COUNTS},
        "ideal_orders_per_second": {n: n * args.concurrency / LATENCY for n in WORKER_COUNTS},
        "target_speedup_at_4": 3.5, "runs": runs,
    }
    for n in WORKER_COUNTS:
        print(f"postgres, {n} worker(s) x {args.concurrency} in flight, 50 ms latency: "
              f"{best[n]} orders/s -> {report['speedup'][n]}x one worker "
              f"(ideal {report['ideal_orders_per_second'][n]:g}/s)")
    save(f"scale-out-c{args.concurrency}" + ("-quick" if args.quick else ""), report)
    return report


if __name__ == "__main__":
    main()
