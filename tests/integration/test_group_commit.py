"""The group committer when the database holds it up: a request that gives up spools its
delivery only if its row was never taken, so no delivery is ever stored twice. A real
database file (or server) whose write lock another connection holds; the wait is shortened
through a parameter."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import Delivery
from tests.conftest import SHOP

WAIT = 0.1  # seconds a request waits for the committer to take its row


@contextmanager
def write_lock_held(db: Database) -> Iterator[None]:
    """Another connection holds the lock every INSERT into ``deliveries`` needs."""
    if db.is_postgres:
        with db.engine.connect() as holder:
            holder.exec_driver_sql("LOCK TABLE deliveries IN EXCLUSIVE MODE")
            try:
                yield
            finally:
                holder.rollback()
        return
    holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc
    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def delivery(n: int) -> IncomingDelivery:
    return IncomingDelivery(shop=SHOP, topic="order.created", body=b'{"id": %d}' % n)


def stored_bodies(db: Database) -> list[bytes]:
    with db.read() as session:
        return sorted(session.execute(select(Delivery.body)).scalars())


def test_a_request_whose_row_was_taken_waits_for_that_commit(db: Database,
                                                             tmp_path: Path) -> None:
    store = DeliveryStore(db, Spool(tmp_path / "spool"), wait_seconds=WAIT)
    with write_lock_held(db):
        thread, result = in_thread(lambda: store.store(delivery(1)))
        thread.join(10 * WAIT)  # well past its wait: it must not have given up and spooled
    thread.join()

    assert "error" not in result, result
    assert not result["value"].spooled and result["value"].delivery_id is not None
    assert store.spool.size() == 0
    store.import_spool()
    assert stored_bodies(db) == [b'{"id": 1}']


def test_a_request_whose_row_was_not_taken_withdraws_it_before_spooling(
        db: Database, tmp_path: Path) -> None:
    store = DeliveryStore(db, Spool(tmp_path / "spool"), wait_seconds=WAIT)
    with write_lock_held(db):
        first, first_result = in_thread(lambda: store.store(delivery(1)))
        # the committer took the first row and is stuck on the lock with it
        until(lambda: store.committer._connection is not None and store.committer.queued == 0,
              "the committer took the first row")
        second = store.store(delivery(2))  # queued behind it: gives up after WAIT
    first.join()
    third = store.store(delivery(3))  # once it is stored, the committer is past the second

    assert second.spooled
    assert not first_result["value"].spooled and not third.spooled
    store.import_spool()  # (the importer the spooling request started may have done it)
    assert store.spool.size() == 0
    assert stored_bodies(db) == [b'{"id": 1}', b'{"id": 2}', b'{"id": 3}']  # each once


def test_a_row_the_database_refuses_fails_alone_not_its_whole_batch(db: Database,
                                                                   tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    from bridge.intake.store import _delivery_values

    store = DeliveryStore(db, Spool(tmp_path / "spool"))
    refused = {**_delivery_values(delivery(2)), "body": None}  # NOT NULL: the statement fails
    calls = [lambda: store.committer.insert(_delivery_values(delivery(1))),
             lambda: store.committer.insert(refused),
             lambda: store.committer.insert(_delivery_values(delivery(3)))]
    with write_lock_held(db):
        first, first_result = in_thread(calls[0])
        until(lambda: store.committer._connection is not None and store.committer.queued == 0,
              "the committer took the first row")
        others = [in_thread(call) for call in calls[1:]]
        until(lambda: store.committer.queued == 2, "two rows wait behind it, one batch")
    for thread, _ in [(first, first_result), *others]:
        thread.join()

    (_, second_result), (_, third_result) = others
    assert isinstance(second_result.get("error"), IntegrityError)
    assert isinstance(third_result.get("value"), int), third_result
    assert stored_bodies(db) == [b'{"id": 1}', b'{"id": 3}']


def test_disposing_the_database_closes_the_committers_connection(tmp_path: Path) -> None:
    """The committer keeps its connection between batches, outside the engine's pool; a
    disposed database must not leave it (and its file descriptors) open."""
    path = tmp_path / "closing.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    DeliveryStore(db, Spool(tmp_path / "spool")).store(
        IncomingDelivery(shop="shop", body=b"{}", topic="order.created"))

    def open_on_the_file() -> int:
        fds = Path("/proc/self/fd")
        return sum(1 for fd in fds.iterdir()
                   if str(_target(fd)).startswith(str(path)))

    assert open_on_the_file() >= 1
    db.dispose()
    assert open_on_the_file() == 0


def _target(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:
        return ""
