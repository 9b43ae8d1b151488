"""Latency: from a delivery's 2xx to the invoice request arriving at the upstream simulator.

A buyer checks out, WooCommerce delivers the order, the bridge acknowledges it -- and the
invoice should follow at once. This measures exactly that gap: an open-loop generator sends
``--orders`` signed ``order.created`` deliveries (new order ids) at ``--rate`` per second, a
new connection each, as WordPress does, and notes when each 2xx was read; the e-Cont.md
simulator, served in this same process (one clock), notes when that order's invoice request
arrives. Deployments, each measured in the same run:

- ``embedded``: ``invoice-bridge run`` on SQLite (the receiver wakes its worker in-process);
- ``pg-listen``: gunicorn web (2 processes) + ``invoice-bridge worker`` on PostgreSQL, the
  worker woken by LISTEN/NOTIFY;
- ``pg-poll``: the same with ``dispatch.listen = false``: the poll-interval baseline;
- ``sqlite-watch``: gunicorn web (1 process) + ``invoice-bridge worker`` on one SQLite
  file, the worker woken by its ``data_version`` watch (SQLite has no notifications);
- ``sqlite-poll``: the same with ``dispatch.listen = false``: the poll-interval baseline.

Every deployment keeps the default ``poll_interval`` (1 s). Before each, a few orders warm
it up (not measured).

    python -m bench.latency                       # all five (PostgreSQL ones need the URL)
    python -m bench.latency --deployments pg-listen,pg-poll --rounds 2

Target (issue 12): p99 < 50 ms at 20 orders/s for ``embedded`` and ``pg-listen``.
Every deployment is fresh: a new database, new processes.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import request

from bench.common import (
    BIN,
    PG_ENV,
    ROOT,
    Process,
    free_port,
    new_database,
    percentile,
    running,
    save,
    wait_http,
    workdir,
    write_config,
)
from bench.ingest import GUNICORN, PATH, SECRET, gunicorn
from bridge.upstreams.econt.assumptions import PUT_INVOICE_PATH
from sandbox.econt.server import RunningSimulator, run_simulator
from sandbox.woocommerce.samples import build_order
from sandbox.woocommerce.sender import WooCommerceWebhook

DEPLOYMENTS = ("embedded", "pg-listen", "pg-poll", "sqlite-watch", "sqlite-poll")
WARMUP = 10


class Arrivals:
    """When each order's first invoice request reached the simulator (time.monotonic)."""

    def __init__(self, simulator: RunningSimulator) -> None:
        self.at: dict[int, float] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        simulator.app.before_request(self._note)

    def _note(self) -> None:
        arrived = time.monotonic()
        if request.path != PUT_INVOICE_PATH or request.method != "POST":
            return
        body = request.get_json(silent=True)
        try:
            order_id = int(body["order"]["id"])  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            return
        with self._changed:
            self.at.setdefault(order_id, arrived)
            self._changed.notify_all()

    def wait_for(self, order_ids: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not all(order_id in self.at for order_id in order_ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(left)


def signed(order_id: int) -> tuple[bytes, list[tuple[str, str]]]:
    hook = WooCommerceWebhook(delivery_url=f"http://127.0.0.1{PATH}", secret=SECRET)
    prepared = hook.build("order.created", build_order(order_id=order_id))
    return prepared.body, [(k, v) for k, v in prepared.headers
                           if k.lower() not in ("content-length", "connection")]


def deliver(port: int, order_ids: list[int], rate: float) -> dict[int, float]:
    """Send one delivery per order id at ``rate`` per second on schedule (open loop); the
    time.monotonic() each 2xx was read, by order id."""
    bodies = {order_id: signed(order_id) for order_id in order_ids}
    acked: dict[int, float] = {}
    start = time.monotonic() + 0.2

    def one(index: int) -> None:
        order_id = order_ids[index]
        body, headers = bodies[order_id]
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.putrequest("POST", PATH, skip_accept_encoding=True)
        for key, value in headers:
            connection.putheader(key, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Connection", "close")
        connection.endheaders(body)
        response = connection.getresponse()
        response.read()
        done = time.monotonic()
        connection.close()
        if 200 <= response.status < 300:
            acked[order_id] = done

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(one, range(len(order_ids))))
    return acked


def processes(name: str, config: Path, port: int, directory: Path) -> list[Process]:
    env = {"INVOICE_BRIDGE_CONFIG": str(config)}
    if name == "embedded":
        return [Process([str(BIN / "invoice-bridge"), "run", "--port", str(port)], env=env,
                        log=directory / "run.log")]
    web = gunicorn("bridge.web:create_app()", port,
                   GUNICORN["sqlite" if name.startswith("sqlite") else "postgres"], env)
    web.log = directory / "web.log"
    return [web, Process([str(BIN / "invoice-bridge"), "worker"], env=env,
                         log=directory / "worker.log")]


def measure(name: str, simulator: RunningSimulator, arrivals: Arrivals, *, first: int,
            orders: int, rate: float) -> dict[str, Any]:
    directory = workdir(f"latency-{name}")
    db_url = new_database("postgres" if name.startswith("pg-") else "sqlite", directory)
    dispatch = {"listen": not name.endswith("-poll")}  # poll_interval stays the default, 1 s
    config = write_config(directory, db_url=db_url, upstream=simulator.url, secret=SECRET,
                          changes={"dispatch": dispatch,
                                   "server": {"spool_dir": str(directory / "spool")}})
    subprocess.run([str(BIN / "invoice-bridge"), "migrate"], check=True, capture_output=True,
                   env={**os.environ, "INVOICE_BRIDGE_CONFIG": str(config)}, cwd=ROOT)
    port = free_port()
    warmup = list(range(first, first + WARMUP))
    measured = list(range(first + WARMUP, first + WARMUP + orders))
    with running(*processes(name, config, port, directory)):
        wait_http(f"http://127.0.0.1:{port}/healthz")
        deliver(port, warmup, rate=5)
        arrivals.wait_for(warmup, timeout=60)
        acked = deliver(port, measured, rate=rate)
        arrivals.wait_for(measured, timeout=60)
    gaps = [(arrivals.at[o] - acked[o]) * 1000 for o in measured if o in acked and o in arrivals.at]
    return {
        "deployment": name, "orders": orders, "rate": rate,
        "acknowledged": len(acked), "arrived": sum(1 for o in measured if o in arrivals.at),
        "arrived_before_ack": sum(1 for gap in gaps if gap < 0),
        "p50_ms": round(percentile(gaps, 50), 1), "p90_ms": round(percentile(gaps, 90), 1),
        "p99_ms": round(percentile(gaps, 99), 1),
        "max_ms": round(max(gaps), 1) if gaps else float("nan"),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="delivery acknowledged -> invoice request")
    parser.add_argument("--deployments", default=",".join(DEPLOYMENTS),
                        help=f"comma-separated, of {', '.join(DEPLOYMENTS)}")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the deployments in turn this many times")
    args = parser.parse_args(argv)
    names = [name for name in args.deployments.split(",") if name]
    unknown = set(names) - set(DEPLOYMENTS)
    if unknown:
        parser.error(f"unknown deployments: {', '.join(sorted(unknown))}")
    if not os.environ.get(PG_ENV):
        print(f"pg-listen, pg-poll: skipped (set {PG_ENV})")
        names = [name for name in names if not name.startswith("pg-")]
    results = []
    first = 100_000
    with run_simulator() as simulator:
        arrivals = Arrivals(simulator)
        for round_ in range(1, args.rounds + 1):
            for name in names:
                result = measure(name, simulator, arrivals, first=first, orders=args.orders,
                                 rate=args.rate)
                first += WARMUP + args.orders
                results.append({"round": round_, **result})
                print(f"{name} (round {round_}): p50 {result['p50_ms']} ms, p90 "
                      f"{result['p90_ms']} ms, p99 {result['p99_ms']} ms, max "
                      f"{result['max_ms']} ms; {result['arrived']} of {args.orders} arrived",
                      flush=True)
    report = {"orders": args.orders, "rate": args.rate, "rounds": args.rounds,
              "target_p99_ms": 50, "results": results}
    save("latency", report)
    return report


if __name__ == "__main__":
    main()
