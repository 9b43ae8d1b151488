"""The fault-injection suite: real processes, a faulty upstream, a worker killed with -9.

Run it by hand (the counts are printed as a table):

    python -m tests.acceptance.fault_suite --db sqlite
    INVOICE_BRIDGE_TEST_PG_URL=postgresql://... python -m tests.acceptance.fault_suite \
        --db postgres --workers 4

What happens in one run:

- the e-Cont.md simulator answers with faults at seeded probabilities: 500, 503, 429 with
  Retry-After, answers slower than the read timeout, connection resets, "create the invoice
  then drop the connection", unreadable 200s, 422s, a gateway's HTML 502 page instead of
  the answer, and a gateway's HTML 504 page after the invoice was created; once, mid-run, a
  401 (the shop pauses until the run "fixes the credentials" and resumes it through the
  admin API);
- orders arrive from a WooCommerce-faithful sender, with the repeats and late stale
  snapshots real shops send;
- PostgreSQL: two gunicorn web replicas and N ``invoice-bridge worker`` processes; SQLite:
  one ``invoice-bridge run`` (the embedded default);
- after 40% of the orders one worker process (on SQLite, the whole ``run``) is killed with
  SIGKILL mid-dispatch and started again.

Counted at the end: orders acknowledged, orders invoiced upstream, duplicates (orders with
more than one invoice), lost (acknowledged but neither invoiced nor visibly stopped with a
reason), failed-with-reason, and inconsistent rows (marked failed while an invoice exists).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from bridge.storage.database import Database
from bridge.storage.models import Delivery, DispatchAttempt, OrderSync, ShopState
from bridge.storage.states import UNKNOWN_OUTCOMES, AttemptOutcome, SyncState
from sandbox.config import bridge_config, merge, write_config
from sandbox.contract import SimulatedService
from sandbox.kit.faults import FaultRule
from sandbox.upstreams import SANDBOXES
from sandbox.woocommerce.samples import DEFAULT_CREATED, build_order
from sandbox.woocommerce.sender import WooCommerceWebhook

BIN = Path(sys.executable).parent
SECRET = "fault_suite_secret_0123"
ADMIN = "fault-suite-admin-token-0123456789"
SHOP = "shop"
#: how long the upstream holds the answer of the dispatch the kill -9 interrupts
HELD_ANSWER_SECONDS = 60.0

#: (kind, probability, extra options); one fault at most per request, first match wins
FAULTS: list[tuple[str, float, dict[str, Any]]] = [
    ("500", 0.06, {}), ("503", 0.04, {}), ("429", 0.05, {"retry_after": 1}),
    ("slow", 0.03, {"delay": 2.5}), ("reset", 0.05, {}), ("drop_after_create", 0.05, {}),
    ("malformed", 0.03, {}), ("empty", 0.02, {}), ("422", 0.02, {}),
    # a gateway's HTML page instead of e-Cont.md's answer: before it saw the request, and
    # after it created the invoice (the case that must never be re-sent blindly)
    ("gateway", 0.02, {"status": 502}), ("gateway_after_create", 0.03, {"status": 504}),
]
FINAL = ("synced", "failed", "review", "invalid", "skipped")


@dataclass
class Counts:
    database: str
    workers: int
    repeated_order: str
    upstream: str = "econt"
    orders_sent: int = 0
    deliveries_sent: int = 0
    invoiced_upstream: int = 0
    duplicates: int = 0
    lost: int = 0
    failed_with_reason: int = 0
    inconsistent: int = 0
    kills: int = 0
    interrupted: int = 0
    #: rows in review because an attempt's outcome was unknown (0 for an upstream that can
    #: look its invoices up)
    review_unknown: int = 0
    seconds: float = 0.0
    states: Counter[str] = field(default_factory=Counter)
    faults: dict[str, int] = field(default_factory=dict)
    lost_orders: list[int] = field(default_factory=list)

    def table(self) -> str:
        rows = [
            ("upstream", self.upstream),
            ("database", f"{self.database} ({self.workers} worker process"
                         f"{'es' if self.workers > 1 else ''})"),
            ("repeated_order", self.repeated_order),
            ("orders sent (acknowledged)", self.orders_sent),
            ("deliveries sent (with repeats)", self.deliveries_sent),
            ("invoices created upstream", self.invoiced_upstream),
            ("duplicates", self.duplicates),
            ("lost", self.lost),
            ("failed with reason", self.failed_with_reason),
            ("marked failed but invoiced", self.inconsistent),
            ("workers killed with -9", self.kills),
            ("dispatches interrupted by it", self.interrupted),
            ("in review after an unknown outcome", self.review_unknown),
            ("rows by state", dict(sorted(self.states.items()))),
            ("faults injected", dict(sorted(self.faults.items()))),
            ("seconds", round(self.seconds, 1)),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def suite_config(directory: Path, db_url: str, port: int, repeated_order: str,
                 upstream: SimulatedService) -> Path:
    """Short leases, timeouts and retries, so faults play out in seconds."""
    config = bridge_config(upstream.upstream_section(repeated_order=repeated_order, rate_limit=0),
                           webhook_secret=SECRET, shop_id=SHOP, db_url=db_url,
                           log_format="json")
    return write_config(directory / "config.toml", merge(config, {
        "database": {"auto_migrate": True},
        "server": {"host": "127.0.0.1", "port": port},
        "admin": {"tokens": [ADMIN]},
        "dispatch": {
            "poll_interval": "100ms", "concurrency": 4, "lease": "4s", "connect_timeout": "1s",
            "read_timeout": "1.5s", "shutdown_grace": "3s",
            "retry": {"schedule": ["200ms", "500ms", "1s", "2s"], "max_attempts": 12,
                      "max_age": "10m"},
        },
    }))


class Cluster:
    """The bridge's processes for one run."""

    def __init__(self, config: Path, database: str, workers: int, port: int) -> None:
        self.config, self.database, self.port = config, database, port
        self.env = {**os.environ, "INVOICE_BRIDGE_CONFIG": str(config)}
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.worker_count = workers
        self.log = open(config.parent / "processes.log", "ab")  # noqa: SIM115

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(list(args), env=self.env, stdout=self.log, stderr=self.log,
                                cwd=self.config.parent)

    def start(self) -> None:
        """Start everything; on failure, whatever did start is stopped by ``stop()``."""
        if self.database == "sqlite":
            self.web = self._spawn(str(BIN / "invoice-bridge"), "run")
        else:
            subprocess.run([str(BIN / "invoice-bridge"), "migrate"], env=self.env, check=True,
                           capture_output=True)
            self.web = self._spawn(str(BIN / "gunicorn"), "-w", "2", "-b",
                                   f"127.0.0.1:{self.port}", "--graceful-timeout", "5",
                                   "--limit-request-line", "4094",
                                   "--limit-request-fields", "50",
                                   "--limit-request-field_size", "8190",
                                   "bridge.web:create_app()")
            self.workers = [self._spawn(str(BIN / "invoice-bridge"), "worker")
                            for _ in range(self.worker_count)]
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass  # still starting
            if self.web is not None and self.web.poll() is not None:
                break  # it exited: waiting longer will not help
            time.sleep(0.1)
        self.log.flush()
        tail = (self.config.parent / "processes.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the bridge did not come up; its output ends with:\n{tail}")

    def kill_holder(self, db_url: str, order_id: int) -> None:
        """SIGKILL the process holding ``order_id``'s lease -- mid-dispatch: its answer is
        held back (``HeldAnswer``) -- and start it again (on SQLite that is the whole
        embedded ``run``)."""
        candidates = [self.web] if self.database == "sqlite" else self.workers
        victim = _process_holding_the_lease(db_url, candidates, order_id)
        victim.kill()
        victim.wait()
        if self.database == "sqlite":
            self.web = self._spawn(str(BIN / "invoice-bridge"), "run")
            self.wait_healthy()
        else:
            self.workers.remove(victim)
            self.workers.append(self._spawn(str(BIN / "invoice-bridge"), "worker"))

    def stop(self) -> None:
        for process in [*self.workers, *([self.web] if self.web else [])]:
            process.send_signal(signal.SIGTERM)
        for process in [*self.workers, *([self.web] if self.web else [])]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.log.close()


class HeldAnswer:
    """The upstream holds the next answer back (a long "slow" fault), so that a kill lands
    mid-dispatch, not between two. A service whose adapter creates other things too
    (facturare.md's customers) may spend the fault on a request of no order: then the next
    answer is held instead."""

    def __init__(self, upstream: SimulatedService) -> None:
        self.upstream = upstream
        self.rule = upstream.add_fault("slow", times=1, delay=HELD_ANSWER_SECONDS)
        self.spent_at: float | None = None

    def order(self) -> int | None:
        """The order whose answer is held (for long enough to kill its worker), if any yet."""
        held = self.upstream.held_orders(for_at_least=HELD_ANSWER_SECONDS / 2)
        if held:
            return int(held[0])
        if isinstance(self.rule, FaultRule) and self.rule.exhausted:
            self.spent_at = self.spent_at or time.monotonic()
            if time.monotonic() - self.spent_at > 1.0:  # no order's answer is being held
                self.rule = self.upstream.add_fault("slow", times=1, delay=HELD_ANSWER_SECONDS)
                self.spent_at = None
        return None

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            order = self.order()
            if order is not None:
                return order
            time.sleep(0.01)
        raise RuntimeError("no answer was held back: nothing was dispatched")


def _process_holding_the_lease(db_url: str, processes: list[Any], order_id: int,
                               timeout: float = 10) -> subprocess.Popen[bytes]:
    """The process whose pid is in the order's lease (lease_owner is host:pid:nonce/claim)."""
    by_pid = {p.pid: p for p in processes if p is not None}
    db = Database(db_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with db.read() as session:
                owner = session.execute(select(OrderSync.lease_owner).where(
                    OrderSync.shop == SHOP, OrderSync.order_id == order_id,
                    OrderSync.state == "sending")).scalar_one_or_none()
            pid = int(owner.split(":")[1]) if owner else None
            if pid in by_pid:
                return by_pid[pid]
            time.sleep(0.01)
    finally:
        db.dispose()
    raise RuntimeError(f"no process held the lease of order {order_id}")


def run_fault_suite(db_url: str, *, database: str, workers: int, directory: Path,
                    orders: int = 150, repeated_order: str = "reject", seed: int = 7,
                    upstream: str = "econt") -> Counts:
    started = time.monotonic()
    counts = Counts(database=database, workers=workers if database != "sqlite" else 1,
                    repeated_order=repeated_order, upstream=upstream)
    rng = random.Random(seed)
    # The upstream: it dedupes repeats when the bridge is told so; when the bridge is told
    # "unknown" we make it the dangerous kind, so any re-send would show as a duplicate.
    repeats = repeated_order if repeated_order != "unknown" else "create_new"
    with SANDBOXES[upstream].start(repeats=repeats, latency=0.05) as simulator:
        port = free_port()
        config = suite_config(directory, db_url, port, repeated_order, simulator)
        cluster = Cluster(config, database, workers, port)
        try:
            cluster.start()  # inside the try: a failed start must not leave processes behind
            for index, (kind, probability, options) in enumerate(FAULTS):
                simulator.add_fault(kind, probability=probability, seed=seed + index, **options)
            _send_orders(cluster, simulator, counts, orders, rng, db_url)
            _settle(cluster, db_url)
        finally:
            cluster.stop()
        _count(counts, db_url, simulator)
    counts.seconds = time.monotonic() - started
    return counts


def _send_orders(cluster: Cluster, simulator: SimulatedService, counts: Counts, orders: int,
                 rng: random.Random, db_url: str) -> None:
    hook = WooCommerceWebhook(delivery_url=f"{cluster.url}/webhooks/woocommerce/{SHOP}",
                              secret=SECRET, timeout=30)
    # At 40 % of the orders the next answer is held back, and the worker sending it is
    # killed with -9; the orders sent meanwhile give it an answer to hold (those sent before
    # may all be invoiced already).
    held: HeldAnswer | None = None
    for order_id in range(1, orders + 1):
        if order_id == int(orders * 0.4):
            held = HeldAnswer(simulator)
        victim = held.order() if held is not None else None
        if victim is not None:
            held = None
            cluster.kill_holder(db_url, victim)
            counts.kills += 1
            hook.delivery_url = f"{cluster.url}/webhooks/woocommerce/{SHOP}"
        if order_id == orders // 2:
            simulator.add_fault("401", times=1)  # credentials "revoked" for a moment
        modified = DEFAULT_CREATED + timedelta(minutes=order_id % 7)
        order = build_order(order_id=order_id, date_modified_gmt=modified)
        if _deliver(hook, "order.created", order):
            counts.orders_sent += 1
        counts.deliveries_sent += 1
        if rng.random() < 0.3:  # WooCommerce often sends the same snapshot again
            _deliver(hook, "order.updated", order)
            counts.deliveries_sent += 1
        if rng.random() < 0.1:  # and sometimes an older snapshot arrives late
            stale = build_order(order_id=order_id, date_modified_gmt=modified
                                - timedelta(minutes=30), customer_note="stale")
            _deliver(hook, "order.updated", stale)
            counts.deliveries_sent += 1
    if held is not None:  # every order sent, and none held yet: one will be
        cluster.kill_holder(db_url, held.wait())
        counts.kills += 1


def _deliver(hook: WooCommerceWebhook, topic: str, order: dict[str, Any]) -> bool:
    result = hook.deliver(topic, order)
    if not result.ok:
        raise RuntimeError(f"delivery refused: HTTP {result.status_code} {result.error}")
    return True


def _settle(cluster: Cluster, db_url: str, timeout: float = 240) -> None:
    """Wait until nothing is left to do; resume the shop when the 401 paused it (what an
    operator does after fixing the credentials)."""
    db = Database(db_url)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    deadline = time.monotonic() + timeout
    quiet = 0
    try:
        while time.monotonic() < deadline:
            with db.read() as session:
                paused = session.execute(select(ShopState.paused).where(
                    ShopState.shop == SHOP)).scalar()
                busy = session.execute(select(OrderSync.id).where(
                    OrderSync.state.in_(("pending", "retrying", "sending"))).limit(1)).first()
                waiting = session.execute(select(Delivery.id).where(
                    Delivery.status == "received").limit(1)).first()
            if paused:
                requests.post(f"{cluster.url}/admin/api/shops/{SHOP}/resume", headers=headers,
                              timeout=10).raise_for_status()
            quiet = quiet + 1 if not (busy or waiting or paused) else 0
            if quiet >= 3:
                return
            time.sleep(0.5)
        raise RuntimeError("the bridge did not settle in time")
    finally:
        db.dispose()


def _count(counts: Counts, db_url: str, simulator: SimulatedService) -> None:
    db = Database(db_url)
    with db.read() as session:
        rows = {row.order_id: row for row in session.execute(select(OrderSync)).scalars()}
        counts.interrupted = len(session.execute(select(DispatchAttempt.id).where(
            DispatchAttempt.outcome == AttemptOutcome.INTERRUPTED)).all())
        counts.review_unknown = len(session.execute(
            select(OrderSync.id).where(OrderSync.state == SyncState.REVIEW,
                                       OrderSync.id.in_(select(DispatchAttempt.sync_id).where(
                                           DispatchAttempt.outcome.in_(UNKNOWN_OUTCOMES))))
        ).all())
    db.dispose()
    per_order = Counter(invoice.order_id for invoice in simulator.invoices())
    counts.invoiced_upstream = len(per_order)
    counts.duplicates = sum(1 for n in per_order.values() if n > 1)
    counts.states = Counter(row.state for row in rows.values())
    counts.faults = simulator.fault_counts()
    for order_id in range(1, counts.orders_sent + 1):
        row = rows.get(order_id)
        invoices = per_order.get(order_id, 0)
        visible = row is not None and row.state in ("failed", "review", "invalid") \
            and bool(row.last_error)
        if visible:
            counts.failed_with_reason += 1
        if row is not None and row.state == "failed" and invoices:
            counts.inconsistent += 1
        ok = (row is not None and row.state == "synced" and invoices >= 1) or visible
        if not ok:
            counts.lost += 1
            counts.lost_orders.append(order_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", choices=sorted(SANDBOXES), default="econt")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--orders", type=int, default=150)
    parser.add_argument("--repeated-order", choices=("reject", "return_existing", "unknown"),
                        help="what the upstream simulator does with a repeated order "
                             "(default: reject for e-Cont.md, whose API can be set up so; "
                             "unknown for the others, which cannot)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.repeated_order is None:
        args.repeated_order = "reject" if args.upstream == "econt" else "unknown"
    directory = Path(tempfile.mkdtemp(prefix="fault-suite-"))
    sqlite_url = f"sqlite:///{directory / 'bridge.db'}"
    db_url = sqlite_url if args.db == "sqlite" else fresh_pg_database()
    counts = run_fault_suite(db_url, database=args.db, workers=args.workers,
                             directory=directory, orders=args.orders,
                             repeated_order=args.repeated_order, seed=args.seed,
                             upstream=args.upstream)
    print(counts.table())
    ok = counts.duplicates == 0 and counts.lost == 0 and counts.inconsistent == 0
    print("PASS" if ok else f"FAIL (lost orders: {counts.lost_orders[:20]})")
    return 0 if ok else 1


def fresh_pg_database(prefix: str = "fault_suite") -> str:
    """A new, empty database on the server of INVOICE_BRIDGE_TEST_PG_URL (kept after the
    run, to be looked at; also used by hostile_suite.py)."""
    import uuid

    from sqlalchemy import create_engine, text

    from bridge.config.sections import normalise_database_url

    admin_url = os.environ["INVOICE_BRIDGE_TEST_PG_URL"]
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return normalise_database_url(admin_url).rsplit("/", 1)[0] + f"/{name}"


if __name__ == "__main__":
    sys.exit(main())
