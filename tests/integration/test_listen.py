"""Workers woken by PostgreSQL: NOTIFY where work becomes due, LISTEN in every worker, the
poll as the fallback. Real PostgreSQL only (SQLite has no notifications).

The worker tests give the worker a poll interval of an hour: when it claims a new row
anyway, only a notification can have woken it. They assert the order of events (listening,
idle, row stored, row sent), never how long anything took.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text

from bridge import operations
from bridge.config.model import Settings
from bridge.dispatch.listen import APPLICATION_NAME, Listener
from bridge.dispatch.watch_sqlite import DataVersionWatcher
from bridge.dispatch.worker import Worker
from bridge.errors import Refused
from bridge.intake import backlog
from bridge.intake.process import DeliveryProcessor
from bridge.intake.spool import Spool, SpooledDelivery
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.models import Delivery, OrderSync
from bridge.storage.notify import CHANNEL
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.samples import build_order
from tests.conftest import SHOP

pytestmark = pytest.mark.postgres

HOUR = {"dispatch": {"poll_interval": "1h"}}


@pytest.fixture
def db_url(pg_url: str) -> str:
    return pg_url


@pytest.fixture
def listening(db: Database) -> Iterator[psycopg.Connection[Any]]:
    """A session listening on the workers' channel, as a worker's would."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"LISTEN {CHANNEL}")
        yield connection


def heard(connection: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """The next notification (waits for it, up to 10 s): [(channel, payload)]."""
    return [(n.channel, n.payload) for n in connection.notifies(timeout=10, stop_after=1)]


def delivery(order_id: int = 1187) -> IncomingDelivery:
    return IncomingDelivery(shop=SHOP, topic="order.updated",
                            body=php_json_encode(build_order(order_id=order_id)))


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


# --- who notifies -----------------------------------------------------------------------------


def test_every_way_work_becomes_due_notifies_once_committed(
        db: Database, settings: Settings, tmp_path: Path, memory_registry: UpstreamRegistry,
        listening: psycopg.Connection[Any]) -> None:
    # a delivery stored by the webhook's group committer (also the path of backfill)
    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    store.store(delivery())
    assert heard(listening) == [(CHANNEL, "")]  # the channel, and nothing about the order

    # a spooled delivery imported
    store.spool.write(SpooledDelivery(key=Spool.new_key(), shop=SHOP, source="webhook",
                                      received_at=delivery().received_at, topic="order.updated",
                                      webhook_id=None, delivery_id=None, headers={},
                                      body=php_json_encode(build_order(order_id=1188))))
    assert store.import_spool() == 1
    assert heard(listening) == [(CHANNEL, "")]

    DeliveryProcessor(db, settings, memory_registry).process_pending()
    # a resync
    with db.transaction() as session:
        operations.resync(session, settings, memory_registry, SHOP, 1187)
    assert heard(listening) == [(CHANNEL, "")]

    # a refused resync rolls back, and with it its notification; pausing notifies nothing;
    # the resume after them is the one notification heard
    with pytest.raises(Refused), db.transaction() as session:
        operations.resync(session, settings, memory_registry, SHOP, 1187)
        operations.get_row(session, SHOP, 999)  # refused after the resync queued its NOTIFY
    with db.transaction() as session:
        operations.set_paused(session, settings, SHOP, True)
    with db.transaction() as session:
        operations.set_paused(session, settings, SHOP, False)
    assert heard(listening) == [(CHANNEL, "")]

    # a quarantined delivery sent back to be processed
    with db.transaction() as session:
        quarantined = session.execute(select(Delivery).limit(1)).scalar_one()
        quarantined.status = backlog.QUARANTINED
    with db.transaction() as session:
        again = session.get(Delivery, quarantined.id)
        assert again is not None
        backlog.retry(again)
    assert heard(listening) == [(CHANNEL, "")]
    assert list(listening.notifies(timeout=0.2)) == []  # nothing else was sent


def test_a_worker_listens_unless_asked_not_to(make_settings: Any, db: Database,
                                              tmp_path: Path) -> None:
    assert isinstance(Worker(make_settings(), db).listener, Listener)
    assert Worker(make_settings({"dispatch": {"listen": False}}), db).listener is None
    # SQLite's nearest equivalent (tests/integration/test_watch_sqlite.py)
    sqlite = Database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert isinstance(Worker(make_settings(), sqlite).listener, DataVersionWatcher)
    finally:
        sqlite.dispose()


# --- the worker, woken --------------------------------------------------------------------


class Running:
    """A worker running in a thread on a database of its own, as ``invoice-bridge worker``
    does beside the web processes."""

    def __init__(self, settings: Settings, db_url: str, upstream: InMemoryUpstream, *,
                 first_backoff: float = 0.5) -> None:
        self.db = Database(db_url)
        self.worker = Worker(settings, self.db, upstreams=UpstreamRegistry(
            settings, overrides={SHOP: upstream}))
        assert self.worker.listener is not None
        self.listener = self.worker.listener
        self.listener.first_backoff = first_backoff
        self.listener.max_backoff = max(first_backoff, self.listener.max_backoff)
        self.thread = threading.Thread(target=self.worker.run, name="test-worker")

    def __enter__(self) -> Running:
        self.thread.start()
        assert self.listener.listening.wait(10)
        return self

    def wait_idle(self) -> None:
        """Until the loop waits for work (its first turns are over)."""
        assert self.worker.idle.wait(10)

    def __exit__(self, *_: object) -> None:
        self.worker.stop()
        self.thread.join(15)
        assert not self.thread.is_alive()
        self.db.dispose()


def drop_listen_connections(db: Database) -> int:
    with db.engine.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = :name AND datname = current_database()"),
            {"name": APPLICATION_NAME}).scalar_one()
    return int(ended)


def test_a_worker_claims_a_new_row_without_waiting_for_its_poll(
        make_settings: Any, db: Database, db_url: str, tmp_path: Path,
        memory_upstream: InMemoryUpstream) -> None:
    settings = make_settings(HOUR)
    web = DeliveryStore(db, Spool(tmp_path / "spool"))  # the receiver's side
    with Running(settings, db_url, memory_upstream) as running:
        running.wait_idle()
        web.store(delivery(1187))
        wait_for(lambda: len(memory_upstream.invoices) == 1, "the order was invoiced")

        # a paused shop's order waits; resuming it wakes the worker the same way
        with db.transaction() as session:
            operations.set_paused(session, settings, SHOP, True)
        web.store(delivery(1188))
        wait_for(lambda: _state(db, 1188) == "pending", "the delivery was processed")
        running.wait_idle()
        with db.transaction() as session:
            operations.set_paused(session, settings, SHOP, False)
        wait_for(lambda: len(memory_upstream.invoices) == 2, "the resumed order was invoiced")
    assert [i.order_id for i in memory_upstream.invoices] == [1187, 1188]
    assert running.listener.lost == 0


def test_a_dropped_listen_connection_is_logged_and_the_poll_catches_the_row(
        make_settings: Any, db: Database, db_url: str, tmp_path: Path,
        memory_upstream: InMemoryUpstream, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bridge.dispatch.listen")
    settings = make_settings({"dispatch": {"poll_interval": "200ms"}})
    web = DeliveryStore(db, Spool(tmp_path / "spool"))
    # listening again only after an hour: until then only the poll can find the row
    with Running(settings, db_url, memory_upstream, first_backoff=3600) as running:
        assert drop_listen_connections(db) == 1
        wait_for(lambda: running.listener.lost == 1, "the worker noticed")
        assert not running.listener.listening.is_set()
        web.store(delivery(1187))  # its notification reaches no worker
        wait_for(lambda: len(memory_upstream.invoices) == 1, "the poll found the row")
        assert not running.listener.listening.is_set()
    lost = [r for r in caplog.records if r.name == "bridge.dispatch.listen"]
    assert [(r.levelname, r.getMessage()) for r in lost] == [
        ("WARNING", "not listening for PostgreSQL notifications; the worker polls every "
                    "poll_interval until it listens again")]
    assert lost[0].retry_in_seconds == 3600 and lost[0].poll_interval == 0.2  # type: ignore[attr-defined]


def test_listening_again_looks_at_once_for_what_was_notified_meanwhile(
        make_settings: Any, db: Database, db_url: str, tmp_path: Path,
        memory_upstream: InMemoryUpstream, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bridge.dispatch.listen")
    settings = make_settings(HOUR)
    web = DeliveryStore(db, Spool(tmp_path / "spool"))
    with Running(settings, db_url, memory_upstream, first_backoff=3) as running:
        running.wait_idle()
        assert drop_listen_connections(db) == 1
        wait_for(lambda: running.listener.lost == 1, "the worker noticed")
        web.store(delivery(1187))  # notified while nobody listens: lost
        stored_at = time.time()
        assert not running.listener.listening.is_set()
        wait_for(lambda: len(memory_upstream.invoices) == 1, "the order was invoiced")
        assert running.listener.listening.is_set()
    messages = [(r.getMessage(), r.created) for r in caplog.records
                if r.name == "bridge.dispatch.listen"]
    assert [m for m, _ in messages] == [
        "not listening for PostgreSQL notifications; the worker polls every poll_interval "
        "until it listens again",
        "listening for PostgreSQL notifications again"]
    assert messages[1][1] > stored_at  # listened again after the row was stored


def _state(db: Database, order_id: int) -> str | None:
    with db.read() as session:
        return session.execute(select(OrderSync.state).where(
            OrderSync.order_id == order_id)).scalar()
