"""Ingest: signed WooCommerce deliveries through gunicorn, against a no-op Flask endpoint
served with the same gunicorn settings.

- throughput: wrk, closed loop, the exact signed body WooCommerce would send, best of
  ``--rounds`` alternating runs (noop, bridge, noop, bridge, ...);
- latency at a fixed rate (default 100 deliveries/s): an open-loop generator that opens a
  new connection per delivery, as WordPress does, and times each until the answer is read.

    python -m bench.ingest --db sqlite            # or postgres, or both
    python -m bench.ingest --quick                # shorter runs (CI)

Targets (issue 5): throughput >= 0.6x the no-op endpoint; p99 < 25 ms at 100 deliveries/s.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import (
    BIN,
    PG_ENV,
    ROOT,
    Process,
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
from sandbox.woocommerce.samples import sample_orders
from sandbox.woocommerce.sender import WooCommerceWebhook

PATH = "/webhooks/woocommerce/shop"
SECRET = "bench_secret"


#: gunicorn settings per database, used for the bridge and the no-op alike. SQLite has one
#: writer, so one process whose threads share the group commit; PostgreSQL takes several.
#: the request caps docs/operations.md gives for gunicorn (request line, header count, one
#: header's size), so the bridge is measured as it is deployed
LIMITS = ["--limit-request-line", "4094", "--limit-request-fields", "50",
          "--limit-request-field_size", "8190"]
GUNICORN = {
    "sqlite": ["-w", "1", "-k", "gthread", "--threads", "16", *LIMITS],
    "postgres": ["-w", "2", "-k", "gthread", "--threads", "8", *LIMITS],
}


def gunicorn(app: str, port: int, settings: list[str], env: dict[str, str]) -> Process:
    return Process([str(BIN / "gunicorn"), *settings, "-b", f"127.0.0.1:{port}",
                    "--backlog", "2048", app], env=env, cwd=ROOT)


def signed(order: dict[str, Any]) -> tuple[bytes, list[tuple[str, str]]]:
    """An order.created delivery as WooCommerce signs and encodes it: (body, headers), the
    headers without the ones the load generator sets itself."""
    hook = WooCommerceWebhook(delivery_url=f"http://127.0.0.1{PATH}", secret=SECRET)
    prepared = hook.build("order.created", order)
    return prepared.body, [(k, v) for k, v in prepared.headers
                           if k.lower() not in ("content-length", "connection")]


def signed_request() -> tuple[bytes, list[tuple[str, str]]]:
    return signed(sample_orders()[1])  # the B2B order, ~5 KB


def wrk(url: str, body_file: Path, headers: list[tuple[str, str]], *, seconds: int,
        connections: int) -> dict[str, float]:
    script = body_file.with_suffix(".lua")
    lines = ['wrk.method = "POST"', f'local f = io.open("{body_file}", "rb")',
             "wrk.body = f:read('*a')", "f:close()"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers]
    script.write_text("\n".join(lines) + "\n")
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s",
                          "-s", str(script), "--latency", url], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests_per_second": rps, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else ""}


def open_loop(port: int, signed: list[tuple[bytes, list[tuple[str, str]]]], *, rate: float,
              seconds: float) -> dict[str, float]:
    """Send ``rate`` deliveries per second on schedule, whatever the answers take; delivery
    i is ``signed[i % len(signed)]`` (body, headers)."""
    count = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = []
    statuses: list[int] = []

    def one(index: int) -> None:
        body, headers = signed[index % len(signed)]
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t0 = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.putrequest("POST", PATH, skip_accept_encoding=True)
        for key, value in headers:
            connection.putheader(key, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Connection", "close")
        connection.endheaders(body)
        response = connection.getresponse()
        response.read()
        connection.close()
        latencies.append((time.perf_counter() - t0) * 1000)
        statuses.append(response.status)

    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(one, range(count)))
    return {"rate": rate, "sent": count, "ok": sum(1 for s in statuses if s == 200),
            "p50_ms": round(percentile(latencies, 50), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies), 2)}


def bench_database(name: str, db_url: str, *, seconds: int, rounds: int, connections: int,
                   rate: float, latency_seconds: float,
                   settings: list[str] | None = None) -> dict[str, Any]:
    settings = settings or GUNICORN[name]
    directory = workdir(f"ingest-{name}")
    config = write_config(directory, db_url=db_url, secret=SECRET)
    env = {"INVOICE_BRIDGE_CONFIG": str(config)}
    subprocess.run([str(BIN / "invoice-bridge"), "migrate"], env={**env, "PATH": ""},
                   check=True, capture_output=True)
    body, headers = signed_request()
    body_file = directory / "body.json"
    body_file.write_bytes(body)
    bridge_port, noop_port = free_port(), free_port()
    bridge = gunicorn("bridge.web:create_app()", bridge_port, settings, env)
    noop = gunicorn("bench.noop_app:app", noop_port, settings, {})
    runs: dict[str, list[dict[str, float]]] = {"noop": [], "bridge": []}
    with running(bridge, noop):
        wait_http(f"http://127.0.0.1:{bridge_port}/healthz")
        wait_http(f"http://127.0.0.1:{noop_port}/healthz")
        for port in (noop_port, bridge_port):  # warm up both
            wrk(f"http://127.0.0.1:{port}{PATH}", body_file, headers, seconds=2,
                connections=connections)
        for _ in range(rounds):
            for label, port in (("noop", noop_port), ("bridge", bridge_port)):
                runs[label].append(wrk(f"http://127.0.0.1:{port}{PATH}", body_file, headers,
                                       seconds=seconds, connections=connections))
        latency = {label: open_loop(port, [(body, headers)], rate=rate, seconds=latency_seconds)
                   for label, port in (("noop", noop_port), ("bridge", bridge_port))}
    best = {label: max(r["requests_per_second"] for r in results)
            for label, results in runs.items()}
    return {
        "database": name,
        "throughput": {"noop_rps": round(best["noop"]), "bridge_rps": round(best["bridge"]),
                       "ratio": ratio(best["bridge"], best["noop"]), "target_ratio": 0.6,
                       "bridge_non_2xx": sum(r["non_2xx"] for r in runs["bridge"]),
                       "runs": runs},
        "latency": {**latency, "target_p99_ms": 25},
        "settings": {"gunicorn": " ".join(settings), "wrk_connections": connections,
                     "seconds": seconds, "rounds": rounds},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="ingest benchmark")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--gunicorn", default=None, metavar="ARGS",
                        help='gunicorn settings for both servers, e.g. "-w 1 -k gthread '
                             '--threads 16" (default: per database, see GUNICORN)')
    args = parser.parse_args(argv)
    seconds, rounds, latency_seconds = (3, 1, 3.0) if args.quick else (10, 3, 20.0)
    results = []
    for name in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        if name == "postgres" and not os.environ.get(PG_ENV):
            print(f"postgres: skipped (set {PG_ENV})")
            continue
        url = new_database(name, workdir("ingest-db"))
        result = bench_database(name, url, seconds=seconds, rounds=rounds,
                                connections=args.connections, rate=args.rate,
                                settings=args.gunicorn.split() if args.gunicorn else None,
                                latency_seconds=latency_seconds)
        results.append(result)
        t, lat = result["throughput"], result["latency"]
        print(f"{name}: {t['bridge_rps']} deliveries/s vs no-op {t['noop_rps']} req/s -> "
              f"{t['ratio']}x (target 0.6x); at {args.rate:g}/s p50 {lat['bridge']['p50_ms']} "
              f"ms, p99 {lat['bridge']['p99_ms']} ms (no-op p99 {lat['noop']['p99_ms']} ms; "
              "target < 25 ms)")
    report = {"quick": args.quick, "results": results}
    suffix = "-custom" if args.gunicorn else ""
    save(("ingest-quick" if args.quick else "ingest") + suffix, report)
    return report


if __name__ == "__main__":
    main()
