"""Run every benchmark, one after another (they must not share the machine), and print
where each result was saved. PostgreSQL parts run when INVOICE_BRIDGE_TEST_PG_URL is set.

    python -m bench.run_all            # the figures in docs/benchmarks.md (about 45 min)
    python -m bench.run_all --quick    # about ten minutes: shorter runs, smaller tables
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

from bench import dispatch, ingest, latency, scale, scale_out
from bench.common import PG_ENV


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="all benchmarks")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    quick = ["--quick"] if args.quick else []
    postgres = bool(os.environ.get(PG_ENV))
    steps: list[tuple[str, Callable[[list[str]], Any], list[str]]] = [
        ("ingest", ingest.main, ["--db", "both" if postgres else "sqlite", *quick]),
        ("dispatch sqlite", dispatch.main, ["--db", "sqlite", *quick]),
        ("scale sqlite", scale.main, ["--db", "sqlite", *quick]),
        ("latency", latency.main, ["--orders", "100"] if args.quick else []),
    ]
    if postgres:
        steps += [
            ("dispatch postgres", dispatch.main, ["--db", "postgres", *quick]),
            ("scale-out postgres", scale_out.main, quick),
            ("scale postgres (latency)", scale.main, ["--db", "postgres", "--part", "latency",
                                                      *quick]),
        ]
    else:
        print(f"PostgreSQL parts skipped: set {PG_ENV}")
    for name, run, step_args in steps:
        started = time.monotonic()
        print(f"== {name}", flush=True)
        run(step_args)
        print(f"   ({time.monotonic() - started:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
