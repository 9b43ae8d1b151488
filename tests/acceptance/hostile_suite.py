"""The hostile-input suite: a real bridge under a mixed, seeded stream of hostile requests.

Run it by hand (the counts are printed as a table; ``--full`` is the larger size):

    python -m tests.acceptance.hostile_suite --db sqlite [--full]
    INVOICE_BRIDGE_TEST_PG_URL=postgresql://... python -m tests.acceptance.hostile_suite \
        --db postgres [--full]

One run: the embedded service (what ``invoice-bridge run`` starts: waitress, the worker in a
thread) on SQLite or PostgreSQL, the e-Cont.md simulator as its upstream, the JSON logs
captured to a file. Several client threads send one shuffled stream over real HTTP
(tests/acceptance/hostile_stream.py says what is in it):

- authentic normal orders, signed and sent as WooCommerce sends them;
- authentic poison orders, each under an order id of its own: the ones of
  tests/integration/test_poison_deliveries.py (a status or a number too long for its column,
  an id of 2^63, JSON nested 1,000 deep, a lone surrogate and NUL in a name, 3,000 bad
  lines), a cut-off body, a body that is not JSON, one in UTF-16, a 1.5 MB customer note, a
  100 KB e-mail address, a 500-digit total, 12 KB of odd WooCommerce headers, topics the
  bridge does not handle (one 300 characters long), deletions of an id past 2^64 and of a
  list, an action with a 100 KB name, a 200 KB WooCommerce error object, and an order that
  is fixed in the shop later;
- forged requests: bad signatures (with an 80 KB and a 12 KB ``X-WC-Webhook-Delivery-ID``),
  thousands of forged topics, no signature, a signature made with another secret, unknown
  shops (one 12 KB long), bodies over the limit, paths of 40 KB and 12 KB;
- malformed admin input, with the token and without it: forged and huge cursors, JSON
  nested 100,000 deep, order ids in Arabic-Indic digits and past 2^63 - 1, wrong types,
  10,001 order ids, bad filters, wrong tokens.

Beside the stream a probe thread asks ``/healthz`` and ``/readyz`` over and over, and forged
requests -- more than the server has threads -- are held half-sent through the whole burst.
After the burst the held requests are completed, a last batch of orders is sent (new ones,
and the corrected poison orders), the worker drains, the person on call's view is read
through the admin API, and everything is counted (``Counts``). ``Counts.problems()`` lists
every broken promise; the run passes when it is empty. Nothing here measures time: "no
request stalls another" is shown by what was answered while what else was still open.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bridge import metrics
from bridge.config.load import load_settings
from bridge.embedded import EmbeddedService
from bridge.intake.process import REASON_LIMIT
from bridge.intake.spool import Spool
from bridge.logs import MAX_EXCEPTION_CHARS, MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, configure_logging
from bridge.storage.database import Database
from bridge.storage.models import Delivery, OrderSync, ShopState
from sandbox.econt import RunningSimulator, SimulatorState, run_simulator
from sandbox.woocommerce.sender import WooCommerceWebhook
from tests.acceptance.fault_suite import fresh_pg_database
from tests.acceptance.hostile_stream import (
    ADMIN,
    CI,
    ERROR_PAYLOAD,
    FIXED_LATER,
    FULL,
    IGNORED,
    INVALID_DELIVERY,
    INVALID_ROW,
    INVOICED,
    SECRET,
    SHOP,
    WEBHOOK,
    HeldRequest,
    Planned,
    Prober,
    Size,
    plan_stream,
    suite_config,
    tail_plan,
)
from tests.acceptance.test_web_edge import RESET

#: what a cut value may carry after its limit: "…[123456789 chars]" (bridge.masking.bound)
CUT_NOTE = 24
#: /metrics series (sample lines) one run may add, however many forged requests it sends:
#: every label value is from a closed set (docs/operations.md), and what one shop's traffic
#: reaches of them adds about 40 (in a fresh process 24 before the run, 66 after, with 2,000
#: or 10,000 forged topics alike). A label fed from a request would blow this with the
#: first thousand forged topics. (A pytest process has counted earlier tests too, so the
#: bound is on what this run adds.)
SERIES_GROWTH_BOUND = 200
#: for the suite's own reads of /metrics and the admin API
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


@dataclass
class Counts:
    database: str
    size: str
    sent: Counter[str] = field(default_factory=Counter)         # by group
    sent_by_kind: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    server_errors: int = 0
    authentic_sent: int = 0
    acknowledged: int = 0
    stored: int = 0
    stored_other: int = 0           # rows in deliveries that no authentic request sent
    lost: list[str] = field(default_factory=list)
    delivery_statuses: Counter[str] = field(default_factory=Counter)
    unsettled: list[str] = field(default_factory=list)  # no bounded, non-empty reason
    invoiced_once: int = 0
    to_invoice: int = 0
    invoice_problems: list[str] = field(default_factory=list)
    stray_invoices: int = 0
    fates: Counter[str] = field(default_factory=Counter)
    wrong_fates: list[str] = field(default_factory=list)
    shop_paused: bool = False
    orders_seen: int = 0            # poison orders with a readable id, in the admin API
    orders_unseen: list[str] = field(default_factory=list)
    deliveries_seen: int = 0        # listed by the admin API with their status and reason
    deliveries_unseen: list[str] = field(default_factory=list)
    probes: Counter[str] = field(default_factory=Counter)
    probes_in_burst: int = 0
    held_open_after_burst: int = 0
    held_answers: Counter[str] = field(default_factory=Counter)
    series_before: int = 0
    series_after: int = 0
    forged_label_values: list[str] = field(default_factory=list)
    other_topic_count: float = 0.0
    log_lines: int = 0
    longest_log_line: int = 0
    errors_in_run: int = 0          # error lines logged before the stop
    errors_at_stop: int = 0
    log_over_bound: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> str:
        rows = [
            ("database", self.database),
            ("size", self.size),
            ("requests sent (by group)", dict(sorted(self.sent.items()))),
            ("  of which", dict(sorted(self.sent_by_kind.items()))),
            ("answers by status", dict(sorted(self.statuses.items()))),
            ("answers >= 500", self.server_errors),
            ("answers not as expected", len(self.unexpected)),
            ("probes /healthz + /readyz (by answer)", dict(self.probes)),
            ("  answered during the burst", self.probes_in_burst),
            ("held half-sent: still open after the burst", self.held_open_after_burst),
            ("  then completed: answers", dict(self.held_answers)),
            ("authentic deliveries sent / acknowledged", f"{self.authentic_sent} / "
                                                         f"{self.acknowledged}"),
            ("  stored / lost / other rows", f"{self.stored} / {len(self.lost)} / "
                                             f"{self.stored_other}"),
            ("  after the drain (by status)", dict(self.delivery_statuses)),
            ("  without a bounded reason", len(self.unsettled)),
            ("orders to invoice / invoiced once", f"{self.to_invoice} / {self.invoiced_once}"),
            ("  not invoiced or twice / stray invoices", f"{len(self.invoice_problems)} / "
                                                         f"{self.stray_invoices}"),
            ("poison and odd deliveries (by fate)", dict(sorted(self.fates.items()))),
            ("  not as expected", len(self.wrong_fates)),
            ("admin API: poison orders seen / not", f"{self.orders_seen} / "
                                                     f"{len(self.orders_unseen)}"),
            ("  deliveries listed with a reason / not", f"{self.deliveries_seen} / "
                                                         f"{len(self.deliveries_unseen)}"),
            ("shop paused", self.shop_paused),
            ("/metrics series before / after / bound on growth",
             f"{self.series_before} / {self.series_after} / {SERIES_GROWTH_BOUND}"),
            ("  forged topics counted as \"other\" / forged label values",
             f"{self.other_topic_count:g} / {len(self.forged_label_values)}"),
            ("log lines / longest (chars)", f"{self.log_lines} / {self.longest_log_line}"),
            ("  error lines in the run / at the stop",
             f"{self.errors_in_run} / {self.errors_at_stop}"),
            ("  fields over their bound", len(self.log_over_bound)),
            ("seconds", round(self.seconds, 1)),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)

    def problems(self) -> list[str]:
        """Every broken promise, with a few examples each; empty when the run passed."""
        checks = [
            (self.server_errors == 0, f"{self.server_errors} answers >= 500"),
            (not self.unexpected, f"answers not as expected: {self.unexpected[:5]}"),
            (self.acknowledged == self.authentic_sent,
             f"only {self.acknowledged} of {self.authentic_sent} authentic deliveries "
             "acknowledged"),
            (not self.lost, f"acknowledged but not stored: {self.lost[:5]}"),
            (self.stored_other == 0, f"{self.stored_other} deliveries stored that no "
                                     "authentic request sent"),
            (not self.unsettled, f"deliveries not settled with a reason: {self.unsettled[:5]}"),
            (self.invoiced_once == self.to_invoice,
             f"orders not invoiced exactly once: {self.invoice_problems[:5]}"),
            (self.stray_invoices == 0, f"{self.stray_invoices} invoices for orders that must "
                                       "not have one"),
            (not self.wrong_fates, f"poison deliveries not as expected: {self.wrong_fates[:5]}"),
            (not self.orders_unseen, f"poison orders not seen: {self.orders_unseen[:5]}"),
            (not self.deliveries_unseen and self.deliveries_seen == self.stored,
             f"deliveries not listed: {self.deliveries_unseen[:5]}"),
            (not self.shop_paused, "the shop was paused"),
            (set(self.probes) == {"200"} and self.probes_in_burst > 0,
             f"probes: {dict(self.probes)}, {self.probes_in_burst} during the burst"),
            (self.held_open_after_burst == self.sent["held"],
             f"only {self.held_open_after_burst} held requests were still open after the burst"),
            (dict(self.held_answers) == {"401": self.sent["held"]},
             f"held requests answered {dict(self.held_answers)}"),
            (self.series_after - self.series_before <= SERIES_GROWTH_BOUND,
             f"/metrics grew from {self.series_before} to {self.series_after} series"),
            (not self.forged_label_values,
             f"forged label values in /metrics: {self.forged_label_values[:5]}"),
            (self.other_topic_count == self.sent_by_kind["forged topic"],
             f"topic=\"other\" counted {self.other_topic_count:g} forged topics"),
            (not self.log_over_bound, f"log fields over their bound: {self.log_over_bound[:5]}"),
            (self.errors_in_run == 0, f"{self.errors_in_run} error lines in the log"),
        ]
        return [message for ok, message in checks if not ok]


# --- one run --------------------------------------------------------------------------------


@contextmanager
def json_log_file(path: Path) -> Iterator[Path]:
    """The logging ``run`` configures (JSON lines, masked), written to ``path``; the
    process's own handlers are put back after. Like stderr, the file escapes what it cannot
    encode instead of failing."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("json", "INFO")
    with path.open("a", encoding="utf-8", errors="backslashreplace") as stream:
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        try:
            yield path
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)


def run_hostile_suite(db_url: str, *, database: str, directory: Path, size: Size = CI,
                      size_name: str = "ci", seed: int = 11) -> Counts:
    started = time.monotonic()
    counts = Counts(database=database, size=f"{size_name} {size}")
    with run_simulator(state=SimulatorState()) as simulator, \
            json_log_file(directory / "bridge.log") as log_path:
        settings = load_settings(suite_config(directory, db_url, simulator.url))
        spool = Spool(settings.server.spool_dir)
        with EmbeddedService(settings, host="127.0.0.1", port=0) as service:
            answered = _send(service, size, random.Random(seed), counts)
            _settle(db_url, spool)
            listed = _operator_view(counts, service.url, answered)
            # what the run logged, before the stop (see _count_logs)
            run_lines = len(log_path.read_bytes().splitlines())
        _count_deliveries(counts, db_url, answered, simulator, spool, listed)
        _count_logs(counts, log_path, run_lines)
    counts.seconds = time.monotonic() - started
    return counts


def _send(service: EmbeddedService, size: Size, rng: random.Random, counts: Counts
          ) -> list[tuple[Planned, int]]:
    port = service.server.effective_port
    hook = WooCommerceWebhook(delivery_url=f"{service.url}{WEBHOOK}", secret=SECRET, timeout=120)
    plan = plan_stream(hook, port, size, rng)
    tail = tail_plan(hook, size)
    answered: list[tuple[Planned, int]] = []
    lock = threading.Lock()

    def client(items: list[Planned]) -> None:
        for item in items:
            status = item.send()
            with lock:
                answered.append((item, status))

    counts.series_before, families = _scrape(service.url)
    counts.other_topic_count = -_other_topic(families)
    burst, done = threading.Event(), threading.Event()
    held = [HeldRequest(port, index) for index in range(size.held)]
    with Prober(port, burst, done) as prober:
        threads = [threading.Thread(target=client, args=(plan[i::size.clients],))
                   for i in range(size.clients)]
        burst.set()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
    counts.probes, counts.probes_in_burst = prober.answers, prober.in_burst
    # every request of the burst was answered while these were on the wire, half-sent
    counts.held_open_after_burst = sum(request.still_open() for request in held)
    counts.held_answers = Counter(str(request.finish()) for request in held)
    counts.sent["held"] = size.held
    client(tail)  # after the poison: these must be invoiced all the same
    counts.series_after, families = _scrape(service.url)
    counts.other_topic_count += _other_topic(families)
    _count_metrics(counts, families)
    return answered


def _scrape(url: str) -> tuple[int, list[Any]]:
    text = requests.get(f"{url}/metrics", headers=ADMIN_HEADERS, timeout=60).text
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    return series, list(text_string_to_metric_families(text))


def _count_metrics(counts: Counts, families: list[Any]) -> None:
    allowed = {"topic": metrics.TOPICS | {metrics.OTHER}}
    for family in families:
        for sample in family.samples:
            for name, value in sample.labels.items():
                if "forged" in value or "x" * 100 in value or \
                        (name in allowed and value not in allowed[name]):
                    counts.forged_label_values.append(f"{sample.name}{{{name}={value[:40]}}}")


def _other_topic(families: list[Any]) -> float:
    """Forged requests counted under topic "other" (a process counts since it started)."""
    return sum(sample.value for family in families for sample in family.samples
               if sample.name == "invoice_bridge_deliveries_total"
               and sample.labels.get("topic") == metrics.OTHER
               and sample.labels.get("outcome") == "bad_signature")


def _settle(db_url: str, spool: Spool, timeout: float = 180) -> None:
    """Wait until the worker has nothing left: no delivery or spool file waiting, no row due
    or being sent -- three looks in a row."""
    db = Database(db_url)
    deadline, quiet = time.monotonic() + timeout, 0
    try:
        while time.monotonic() < deadline:
            with db.read() as session:
                busy = session.execute(select(OrderSync.id).where(
                    OrderSync.state.in_(("pending", "retrying", "sending"))).limit(1)).first()
                waiting = session.execute(select(Delivery.id).where(
                    Delivery.status == "received").limit(1)).first()
            quiet = quiet + 1 if not (busy or waiting or spool.size()) else 0
            if quiet >= 3:
                return
            time.sleep(0.2)
        raise RuntimeError("the bridge did not settle in time")
    finally:
        db.dispose()


def _operator_view(counts: Counts, url: str, answered: list[tuple[Planned, int]]
                   ) -> dict[int, dict[str, Any]]:
    """What the person on call sees through the admin API: every poison order whose id can
    be read, with its state and reason; and every delivery (returned, for the count)."""
    for item, _ in answered:
        if item.group != "poison" or item.fate not in (INVALID_ROW, INVOICED, FIXED_LATER):
            continue
        answer = requests.get(f"{url}/admin/api/orders/{SHOP}/{item.order_id}",
                              headers=ADMIN_HEADERS, timeout=60)
        order = answer.json().get("order") or {} if answer.status_code == 200 else {}
        seen = (order.get("state") == "invalid" and bool(order.get("last_error"))
                if item.fate == INVALID_ROW else order.get("state") == "synced")
        counts.orders_seen += seen
        if not seen:
            counts.orders_unseen.append(f"{item.kind} {item.order_id}: {answer.status_code} "
                                        f"{order.get('state')}")
    listed: dict[int, dict[str, Any]] = {}
    cursor = None
    while True:
        page = requests.get(f"{url}/admin/api/deliveries", headers=ADMIN_HEADERS, timeout=60,
                            params={"limit": 500, **({"cursor": cursor} if cursor else {})})
        page.raise_for_status()
        listed.update((view["id"], view) for view in page.json()["deliveries"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return listed


def _count_deliveries(counts: Counts, db_url: str, answered: list[tuple[Planned, int]],
                      simulator: RunningSimulator, spool: Spool,
                      listed: dict[int, dict[str, Any]]) -> None:
    for item, status in answered:
        counts.sent[item.group] += 1
        counts.sent_by_kind[item.kind if item.group != "admin" else "admin"] += 1
        label = "reset" if status == RESET else str(status)
        counts.statuses[label] += 1
        counts.server_errors += status >= 500
        if status not in item.expected:
            counts.unexpected.append(f"{item.kind}: {label}")
    authentic = [(item, status) for item, status in answered if item.body is not None]
    counts.authentic_sent = len(authentic)
    counts.acknowledged = sum(status == 200 for _, status in authentic)

    db = Database(db_url)
    try:
        with db.read() as session:
            deliveries = list(session.execute(select(Delivery)).scalars())
            rows = {r.order_id: r for r in session.execute(select(OrderSync)).scalars()}
            counts.shop_paused = bool(session.execute(select(ShopState.paused).where(
                ShopState.shop == SHOP)).scalar())
    finally:
        db.dispose()
    total, stored = len(deliveries), {d.body_sha256: d for d in deliveries}
    for item, _ in authentic:
        assert item.body is not None and item.order_id is not None and item.fate is not None
        delivery = stored.get(hashlib.sha256(item.body).hexdigest())
        if delivery is None:
            counts.lost.append(f"{item.kind} {item.order_id}")
            continue
        counts.stored += 1
        _check_fate(counts, item, delivery, rows.get(item.order_id), simulator)
    counts.stored_other = total - counts.stored  # stored twice, or never sent authentic
    counts.delivery_statuses = Counter(d.status for d in deliveries)
    counts.delivery_statuses["spool quarantine files"] = spool.quarantined()
    for delivery in deliveries:
        reason = delivery.reason or ""
        if delivery.status not in ("processed", "quarantined") or not reason \
                or len(reason) > REASON_LIMIT:
            counts.unsettled.append(f"delivery {delivery.id}: {delivery.status} "
                                    f"{reason[:80]!r}")
        view = listed.get(delivery.id) or {}
        if view.get("status") == delivery.status and view.get("reason"):
            counts.deliveries_seen += 1
        else:
            counts.deliveries_unseen.append(f"delivery {delivery.id}: {view}")
    invoiced = {item.order_id for item, _ in authentic if item.fate == INVOICED}
    counts.stray_invoices = sum(1 for record in simulator.state.invoices()
                                if record.order_id not in invoiced)


def _check_fate(counts: Counts, item: Planned, delivery: Delivery, row: OrderSync | None,
                simulator: RunningSimulator) -> None:
    """Whether the delivery (and its order's row) ended as its kind must end."""
    if item.fate == INVOICED:
        counts.to_invoice += 1
        invoices = simulator.state.invoice_count(item.order_id or 0)
        if invoices == 1 and row is not None and row.state == "synced":
            counts.invoiced_once += 1
        else:
            counts.invoice_problems.append(f"{item.kind} {item.order_id}: {invoices} invoices, "
                                           f"row {row.state if row else None}")
    if item.group == "normal" or item.group == "tail":
        return
    quarantined = delivery.status == "quarantined" and bool(delivery.reason)
    if item.fate == INVALID_ROW:
        ok = quarantined or (row is not None and row.state == "invalid"
                             and 0 < len(row.last_error or "") <= REASON_LIMIT)
    elif item.fate == INVALID_DELIVERY:
        ok = quarantined or (delivery.outcome == "invalid" and row is None)
    elif item.fate == IGNORED:
        ok = quarantined or (delivery.outcome == "ignored" and row is None)
    elif item.fate == ERROR_PAYLOAD:
        ok = quarantined or (delivery.outcome == "error_payload" and row is None)
    elif item.fate == FIXED_LATER:
        ok = (delivery.outcome == "invalid" and row is not None and row.state == "synced"
              and simulator.state.invoice_count(item.order_id or 0) == 1)
    else:
        ok = row is not None and row.state == "synced"
    counts.fates[f"{item.fate}{' (quarantined)' if quarantined else ''}"] += 1
    if not ok:
        counts.wrong_fates.append(f"{item.kind} {item.order_id}: delivery {delivery.status}/"
                                  f"{delivery.outcome}, row {row.state if row else None}")


def _count_logs(counts: Counts, path: Path, run_lines: int) -> None:
    """Every line's fields within their documented bounds; error lines counted apart for
    the run and for the stop (waitress, closed from another thread, can log one for a
    request thread still finishing: the client has its answer by then)."""
    limits = {"message": MAX_MESSAGE_CHARS, "exception": MAX_EXCEPTION_CHARS}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        counts.log_lines += 1
        counts.longest_log_line = max(counts.longest_log_line, len(line))
        try:
            entry = json.loads(line)
        except ValueError:
            counts.log_over_bound.append(f"line {number} is not JSON: {line[:80]!r}")
            continue
        if entry.get("level") == "error" and number <= run_lines:
            counts.errors_in_run += 1
        elif entry.get("level") == "error":
            counts.errors_at_stop += 1
        for key, value in entry.items():
            if _longest_text(value) > limits.get(key, MAX_FIELD_CHARS) + CUT_NOTE:
                counts.log_over_bound.append(f"line {number} {key}: {_longest_text(value)}")


def _longest_text(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest_text(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_longest_text(v) for v in value), default=0)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--full", action="store_true", help="the larger size (see FULL)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="hostile-suite-"))
    db_url = (f"sqlite:///{directory / 'bridge.db'}" if args.db == "sqlite"
              else fresh_pg_database("hostile_suite"))
    counts = run_hostile_suite(db_url, database=args.db, directory=directory,
                               size=FULL if args.full else CI,
                               size_name="full" if args.full else "ci", seed=args.seed)
    print(counts.table())
    problems = counts.problems()
    print("PASS" if not problems else "FAIL:\n  " + "\n  ".join(problems))
    print(f"(logs and configuration in {directory})")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
