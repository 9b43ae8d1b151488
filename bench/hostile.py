"""Hostile requests against a running ``invoice-bridge run`` (waitress): how long each takes
to be refused, how long ``/healthz`` stalls meanwhile, and what they leave behind.

    python -m bench.hostile                 # prints a table, saves bench/results/hostile.json

Probes (each from an unauthenticated client unless it says "admin"):

- a forged delivery whose ``X-WC-Webhook-Delivery-ID`` is 80 KB (logged when refused), and
  one of 12 KB (under the server's header cap: the app refuses it);
- ``GET /admin/api/orders/<40 KB>/1`` without a token (the path is logged when refused);
- 3,000 forged deliveries, each with its own ``X-WC-Webhook-Topic``: the number of series
  in ``/metrics`` and the process's resident memory, before and after;
- admin: a cursor with a huge id and one nested 5,000 deep, a JSON body nested 100,000
  deep, and order ids in Arabic-Indic digits and past 2^63 - 1: the status codes.

The stall is the longest ``/healthz`` answer seen by a client polling it every 20 ms while
the probe was in flight. ``format_80kb_*``: one JSON log line carrying an 80 KB field, in
this process. Nothing here asserts; the numbers are for the issue and the docs.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.common import (
    BIN,
    ROOT,
    Process,
    free_port,
    rss_kib,
    running,
    save,
    wait_http,
    workdir,
    write_config,
)

TOKEN = "bench-admin-token-0123456789"


class HealthPoller:
    """Polls /healthz on a new connection every 20 ms and keeps every answer's latency."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                self.latencies.append(time.monotonic() - started)
            except OSError:
                self.latencies.append(float("inf"))
            finally:
                connection.close()
            self._stop.wait(0.02)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def request(port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
            body: bytes = b"") -> tuple[int, float, str]:
    """(status, seconds, the answer's first 120 characters) of one request on its own
    connection; status -1 if the connection failed."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read()[:120].decode("utf-8", "replace")
        return response.status, round(time.monotonic() - started, 3), text
    except (OSError, http.client.HTTPException) as exc:
        return -1, round(time.monotonic() - started, 3), type(exc).__name__
    finally:
        connection.close()


def timed_probe(port: int, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    with HealthPoller(port) as poller:
        time.sleep(0.1)
        status, seconds, _ = request(port, method, path, **kwargs)
    return {"status": status, "seconds": seconds,
            "healthz_max_seconds": round(max(poller.latencies), 3)}


def series(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def format_80kb() -> dict[str, Any]:
    """In this process: one log line carrying an 80 KB field, per shape of field (seconds to
    format it, and the length of the line)."""
    from bridge.logs import JsonFormatter

    shapes = {"letters": "x" * 80_000, "digits_and_spaces": "1 " * 40_000,
              "digits_and_dashes": "1-" * 40_000, "quotes": '"a' * 40_000}
    out = {}
    for name, value in shapes.items():
        record = logging.LogRecord("bench", logging.WARNING, __file__, 1, "refused", (), None)
        record.wc_delivery_id = value
        started = time.monotonic()
        line = JsonFormatter().format(record)
        out[name] = {"seconds": round(time.monotonic() - started, 4), "line_chars": len(line)}
    return out


def run() -> dict[str, Any]:
    directory = workdir("hostile")
    config = write_config(directory, db_url=f"sqlite:///{directory / 'bridge.db'}",
                          extra=f'[admin]\ntokens = ["{TOKEN}"]\n')
    port = free_port()
    server = Process([str(BIN / "invoice-bridge"), "--config", str(config), "run",
                      "--port", str(port)], cwd=ROOT, log=Path(directory / "server.log"))
    results: dict[str, Any] = {}
    admin = {"Authorization": f"Bearer {TOKEN}"}
    with running(server):
        wait_http(f"http://127.0.0.1:{port}/healthz")
        results["delivery_id_80kb"] = timed_probe(
            port, "POST", "/webhooks/woocommerce/shop", body=b"{}",
            headers={"Content-Type": "application/json", "X-WC-Webhook-Topic": "order.created",
                     "X-WC-Webhook-Signature": "forged",
                     "X-WC-Webhook-Delivery-ID": "x" * 80_000})
        results["admin_path_40kb"] = timed_probe(port, "GET", f"/admin/api/orders/{'x' * 40_000}/1")
        # under the server's header cap, so the app itself refuses it (and logs it)
        results["delivery_id_12kb"] = timed_probe(
            port, "POST", "/webhooks/woocommerce/shop", body=b"{}",
            headers={"Content-Type": "application/json", "X-WC-Webhook-Topic": "order.created",
                     "X-WC-Webhook-Signature": "forged",
                     "X-WC-Webhook-Delivery-ID": "x" * 12_000})

        before, rss_before = series(port), rss_kib(server.pid)
        for index in range(3000):
            request(port, "POST", "/webhooks/woocommerce/shop", body=b"{}", headers={
                "X-WC-Webhook-Topic": f"forged.topic.{index:04d}.{'t' * 64}",
                "X-WC-Webhook-Signature": "forged"})
        results["forged_topics_3000"] = {
            "series_before": before, "series_after": series(port),
            "rss_kib_before": rss_before, "rss_kib_after": rss_kib(server.pid)}

        probes = {
            "cursor_huge_id": ("GET", "/admin/api/orders?cursor="
                               + cursor(json.dumps(["2026-01-01T00:00:00+00:00", 10**30])), b""),
            "cursor_nested_5000": ("GET", "/admin/api/orders?cursor="
                                   + cursor("[" * 5000 + "]" * 5000), b""),
            "body_nested_100000": ("POST", "/admin/api/resync",
                                   b"[" * 100_000 + b"]" * 100_000),
            # "1187" in Arabic-Indic digits, percent-encoded as a browser sends it
            "order_id_arabic_indic": ("GET", "/admin/api/orders/shop/"
                                      + quote("\u0661\u0661\u0668\u0667"), b""),
            "order_id_2_64": ("GET", f"/admin/api/orders/shop/{2**64}", b""),
        }
        for name, (method, path, body) in probes.items():
            status, _, answer = request(port, method, path, body=body,
                                        headers={**admin, "Content-Type": "application/json"})
            results[name] = {"status": status, "answer": answer}
    return results


def main() -> None:
    results = run()
    results.update({f"format_80kb_{k}": v for k, v in format_80kb().items()})
    width = max(len(name) for name in results)
    for name, values in results.items():
        print(f"{name:{width}}  " + "  ".join(f"{k}={v}" for k, v in values.items()))
    print(f"saved {save('hostile', {'results': results})}")


if __name__ == "__main__":
    main()
