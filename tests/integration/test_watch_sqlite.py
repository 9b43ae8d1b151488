"""SQLite's nearest equivalent of LISTEN: a worker watches the file's ``data_version``, so
a delivery stored by another process (here: another engine, whose connections are as
foreign to the worker's as another process's) is claimed without waiting for the poll.

The worker's poll interval is an hour: when it claims the row anyway, only the watcher can
have woken it. No timing is asserted."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.dispatch.watch_sqlite import DataVersionWatcher
from bridge.dispatch.worker import Worker
from bridge.intake.spool import Spool
from bridge.intake.store import DeliveryStore, IncomingDelivery
from bridge.storage.database import Database
from bridge.upstreams.registry import UpstreamRegistry
from bridge.woocommerce.php_json import php_json_encode
from sandbox.memory import InMemoryUpstream
from sandbox.woocommerce.samples import build_order
from tests.conftest import SHOP


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bridge.db'}"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def test_a_worker_on_sqlite_claims_what_another_process_stored_without_its_poll(
        make_settings: Any, db: Database, db_url: str, tmp_path: Path,
        memory_upstream: InMemoryUpstream) -> None:
    settings = make_settings({"dispatch": {"poll_interval": "1h"}})
    worker_db = Database(db_url)  # the worker's own engine and connections
    worker = Worker(settings, worker_db, upstreams=UpstreamRegistry(
        settings, overrides={SHOP: memory_upstream}))
    assert isinstance(worker.listener, DataVersionWatcher)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert worker.listener.listening.wait(10) and worker.idle.wait(10)
        DeliveryStore(db, Spool(tmp_path / "spool")).store(IncomingDelivery(
            shop=SHOP, topic="order.updated", body=php_json_encode(build_order(order_id=7))))
        wait_for(lambda: len(memory_upstream.invoices) == 1, "the order was invoiced")
    finally:
        worker.stop()
        thread.join(15)
        worker_db.dispose()
    assert not thread.is_alive()
    assert [invoice.order_id for invoice in memory_upstream.invoices] == [7]


def test_a_file_it_cannot_watch_is_logged_and_tried_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bridge.dispatch.watch_sqlite")
    missing = tmp_path / "not-yet.db"
    stopping = threading.Event()
    watcher = DataVersionWatcher(missing, threading.Event(), stopping, max_backoff=0.05)
    thread = watcher.start()
    try:
        wait_for(lambda: watcher.lost >= 2, "tried again")
    finally:
        stopping.set()
        thread.join(5)
    assert not missing.exists()  # never created (the bridge creates it, owner-only)
    assert not watcher.listening.is_set()
    assert {r.getMessage() for r in caplog.records} == {
        "cannot watch the SQLite file for changes; the worker polls every poll_interval "
        "meanwhile"}
