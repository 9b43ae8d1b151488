"""Print the tables of docs/benchmarks.md from bench/results/*.json (what the last runs
saved), so the figures in the docs are copied by a program, not by hand.

    python -m bench.report
"""

from __future__ import annotations

import json
from typing import Any

from bench.common import RESULTS


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def ingest(names: tuple[str, ...] = ("ingest", "ingest-custom")) -> list[str]:
    lines = [_row("database", "gunicorn (both servers)", "no-op req/s", "bridge deliveries/s",
                  "ratio, best rounds (target ≥ 0.6)", "ratio, median of paired rounds",
                  "bridge p50 / p99 at 100/s", "no-op p50 / p99"),
             _row(*["---"] * 8)]
    for name in names:
        report = _load(name)
        for result in (report or {}).get("results", []):
            t, lat = result["throughput"], result["latency"]
            lines.append(_row(
                result["database"], f"`{result['settings']['gunicorn']}`", f"{t['noop_rps']:,}",
                f"{t['bridge_rps']:,}", f"**{t['ratio']}x**", f"{_paired(t['runs'])}x",
                f"{lat['bridge']['p50_ms']} / **{lat['bridge']['p99_ms']} ms**",
                f"{lat['noop']['p50_ms']} / {lat['noop']['p99_ms']} ms"))
    return lines


def _paired(runs: dict[str, list[dict[str, float]]]) -> float:
    """The median of bridge/no-op over rounds run back to back (less sensitive to one lucky
    or unlucky round than best against best)."""
    ratios = sorted(b["requests_per_second"] / n["requests_per_second"]
                    for n, b in zip(runs["noop"], runs["bridge"], strict=True))
    return round(ratios[len(ratios) // 2], 3)


def dispatch(name: str) -> list[str]:
    report = _load(name)
    if report is None:
        return []
    nl = report["no_latency"]
    lines = [_row("no added latency", "orders/s", "ratio (target ≥ 0.7)"),
             _row("---", "---", "---"),
             _row("bare `requests.Session` loop (baseline)",
                  nl["baseline_orders_per_second"], "1"),
             _row("worker, 1 request in flight", nl["worker_c1_orders_per_second"],
                  f"**{nl['ratio_c1']}x**"),
             _row("worker, 4 in flight (the default)", nl["worker_c4_orders_per_second"],
                  f"**{nl['ratio_c4']}x**"),
             *([_row("worker, 4 in flight, `dispatch.listen = false`",
                     nl["worker_c4_no_listen_orders_per_second"],
                     f"{nl['ratio_c4_no_listen']}x")]
               if "ratio_c4_no_listen" in nl else []),
             "",
             _row("100 ms upstream latency", "worker orders/s", "expected", "ratio (target ≥ 0.9)",
                  "C bare sessions, same simulator", "worker / bare sessions"),
             _row(*["---"] * 6)]
    for case in report["latency_100ms"]["cases"]:
        label = f"C = {case['concurrency']}"
        if case["rate_limit"]:
            label += f", rate limit {case['rate_limit']:g}/s"
        lines.append(_row(
            label, case["orders_per_second"],
            f"{case['expected_orders_per_second']:g}" + ("" if case["rate_limit"] else
                                                         " (C / 0.1 s)"),
            f"**{case['ratio']}x**", case["bare_sessions_orders_per_second"],
            f"{case['ratio_to_bare_sessions']}x" if case["ratio_to_bare_sessions"] else "—"))
    return lines


def scale(name: str) -> list[str]:
    report = _load(name)
    if report is None or "latency" not in report:
        return []
    lat = report["latency"]
    large = f"{lat['sizes']['large']:,} rows"
    lines = [_row(report["database"], "1,000 rows", large, "ratio (target ≤ 1.2)"),
             _row("---", "---", "---", "---")]
    for key, label in (("ingest_p50_ms", "ingest p50"), ("ingest_p99_ms", "ingest p99"),
                       ("claim_p50_ms", "claim p50"), ("claim_p99_ms", "claim p99")):
        lines.append(_row(label, f"{lat['small'][key]} ms", f"{lat['large'][key]} ms",
                          f"**{lat['ratios'][key]}x**"))
    return lines


def memory(name: str) -> list[str]:
    report = _load(name)
    if report is None or "memory" not in report:
        return []
    m = report["memory"]
    return [_row("backlog", "RSS after the first tenth", "RSS at the end", "peak",
                 "end / first tenth (target ≤ 1.2)", "orders/s"),
            _row(*["---"] * 6),
            _row(f"{m['backlog']:,}", f"{m['rss_kib_at_first_tenth'] / 1024:.1f} MiB",
                 f"{m['rss_kib_end'] / 1024:.1f} MiB", f"{m['rss_kib_peak'] / 1024:.1f} MiB",
                 f"**{m['ratio_end_to_first_tenth']}x**", m["orders_per_second"])]


def scale_out(name: str = "scale-out-c1") -> list[str]:
    report = _load(name)
    if report is None:
        return []
    lines = [_row("workers (1 in flight each)", "orders/s", "ideal (n / 50 ms)",
                  "speed-up vs 1 worker (target ≥ 3.5 at 4)"), _row("---", "---", "---", "---")]
    for n, rate in report["orders_per_second"].items():
        lines.append(_row(n, rate, f"{report['ideal_orders_per_second'][n]:g}",
                          f"**{report['speedup'][n]}x**"))
    return lines


LATENCY_LABELS = {
    "embedded": "embedded `invoice-bridge run`, SQLite (in-process wake)",
    "pg-listen": "gunicorn web + `invoice-bridge worker`, PostgreSQL, LISTEN/NOTIFY",
    "pg-poll": "the same with `dispatch.listen = false` (poll-interval baseline)",
    "sqlite-watch": "gunicorn web + `invoice-bridge worker`, SQLite, `data_version` watch",
    "sqlite-poll": "the same with `dispatch.listen = false` (poll-interval baseline)",
}


def latency(name: str = "latency") -> list[str]:
    report = _load(name)
    if report is None:
        return []
    lines = [_row("deployment", "round", "p50", "p90", "p99 (target < 50 ms)", "max",
                  "arrived"), _row(*["---"] * 7)]
    for r in report["results"]:
        lines.append(_row(LATENCY_LABELS.get(r["deployment"], r["deployment"]), r["round"],
                          f"{r['p50_ms']} ms", f"{r['p90_ms']} ms", f"**{r['p99_ms']} ms**",
                          f"{r['max_ms']} ms", f"{r['arrived']} / {r['orders']}"))
    return lines


def main() -> None:
    sections = {
        "Ingest": ingest(),
        "Dispatch, SQLite, before this round of fixes": dispatch("dispatch-sqlite-before"),
        "Dispatch, SQLite": dispatch("dispatch-sqlite"),
        "Dispatch, PostgreSQL": dispatch("dispatch-postgres"),
        "Scale, SQLite": scale("scale-sqlite-both"),
        "Scale, PostgreSQL": scale("scale-postgres-latency"),
        "Worker memory": memory("scale-sqlite-memory") or memory("scale-sqlite-both"),
        "Scale-out": scale_out(),
        "Latency, delivery acknowledged to invoice request": latency(),
    }
    for title, lines in sections.items():
        if lines:
            print(f"### {title}\n")
            print("\n".join(lines))
            print()


if __name__ == "__main__":
    main()
