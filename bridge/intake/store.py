"""Store an authentic delivery durably before it is acknowledged.

The hot path of the webhook: one INSERT and one COMMIT, nothing else. If the database cannot
take it (down, unreachable, locked past the busy timeout), the delivery goes to the local
spool instead, still before the 2xx. Parsing and mapping happen later, in the worker.

Header values are the sender's to choose, so the columns that hold them (topic, webhook id,
delivery id) get them sanitised and cut to fit; ``headers`` keeps every one whole, beside
the raw body. Should the database still refuse a delivery (a statement error, not an outage),
it is spooled all the same -- WooCommerce gets its 2xx -- and the spool importer tries it a
few times before it quarantines the file (``spool.py``); the other files keep importing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import String, insert, select
from sqlalchemy.exc import DBAPIError

from bridge.clock import utcnow
from bridge.errors import clip
from bridge.intake.failures import MAX_TRIES
from bridge.intake.group_commit import WAIT_SECONDS, GroupCommitter
from bridge.intake.spool import Spool, SpooledDelivery
from bridge.storage.database import Database
from bridge.storage.failures import describe, is_outage
from bridge.storage.models import Delivery
from bridge.storage.notify import NOTIFY_COLUMN, notify_workers
from bridge.storage.repository import insert_ignoring_conflicts
from bridge.storage.states import DeliveryStatus

log = logging.getLogger(__name__)

_INSERT = insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True)
#: PostgreSQL: the same INSERT also wakes the workers (``bridge.storage.notify``). The group
#: committer runs it as one autocommit statement, so the notification rides in it, as a
#: RETURNING column: it is sent with that statement's commit, and once however many rows.
_INSERT_AND_NOTIFY = insert(Delivery).returning(Delivery.id, NOTIFY_COLUMN,
                                                sort_by_parameter_order=True)


@dataclass(frozen=True)
class IncomingDelivery:
    shop: str
    body: bytes
    topic: str | None = None
    webhook_id: str | None = None
    delivery_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    source: str = "webhook"
    received_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Receipt:
    """Where a delivery went: a database row id, or a spool file key."""

    delivery_id: int | None = None
    spool_key: str | None = None

    @property
    def spooled(self) -> bool:
        return self.spool_key is not None


class DeliveryStore:
    def __init__(self, db: Database, spool: Spool, *, import_interval: float = 2.0,
                 wait_seconds: float = WAIT_SECONDS) -> None:
        self.db = db
        self.spool = spool
        self.import_interval = import_interval
        # how long a request waits for the committer to take its row before it spools
        self.committer = GroupCommitter(db.engine,
                                        _INSERT_AND_NOTIFY if db.is_postgres else _INSERT,
                                        gate=db.write_gate,
                                        wait_seconds=wait_seconds)
        db.on_dispose(self.committer.close)
        self._importer: threading.Thread | None = None
        self._importer_lock = threading.Lock()
        #: failed import tries per spool file (this process's; outages do not count)
        self._import_tries: dict[str, int] = {}
        self._tries_lock = threading.Lock()

    def store(self, incoming: IncomingDelivery) -> Receipt:
        # The webhook's hot path: a Core INSERT committed together with whatever else is
        # arriving at the same moment (group_commit.py); bench/ingest.py measures it.
        try:
            return Receipt(delivery_id=self.committer.insert(_delivery_values(incoming)))
        except Exception as exc:
            key = Spool.new_key()
            self.spool.write(_spooled(incoming, key))
            if isinstance(exc, TimeoutError) or is_outage(exc):
                log.warning("database unavailable, delivery spooled",
                            extra={"shop": incoming.shop, "spool_key": key,
                                   "error": describe(exc)})
            else:  # not an outage: importing it may fail too, and is tried MAX_TRIES times
                log.error("the database refused the delivery; spooled", extra={
                    "shop": incoming.shop, "spool_key": key, "error": describe(exc)})
            self.start_importer()
            return Receipt(spool_key=key)

    def start_importer(self) -> None:
        """Import this machine's spool in the background until it is empty.

        Web replicas each have their own local spool, which a worker elsewhere cannot see, so
        the process that spooled also imports (the worker does the same for its machine).
        Several importers at once are safe: ``spool_key`` is unique.
        """
        with self._importer_lock:
            if self._importer is not None and self._importer.is_alive():
                return
            self._importer = threading.Thread(target=self._import_until_empty,
                                              name="spool-importer", daemon=True)
            self._importer.start()

    def _import_until_empty(self) -> None:
        while self.spool.pending():
            with contextlib.suppress(DBAPIError):  # still down; try again shortly
                self.import_spool()
            time.sleep(self.import_interval)

    def import_spool(self, limit: int = 500) -> int:
        """Move spooled deliveries into the database, oldest first. Returns how many.

        Raises on a database outage (nothing is lost: the files stay). A file the database
        refuses for any other reason is tried again on later calls, MAX_TRIES times in all,
        then quarantined; the files after it are imported meanwhile."""
        imported = 0
        for path, item in self.spool.items():
            if item is None:
                continue
            try:
                with self.db.transaction() as session:
                    values = _delivery_values(item, spool_key=item.key, source="spool")
                    insert_ignoring_conflicts(session, Delivery, values, ["spool_key"])
                    notify_workers(session)
                    exists = session.execute(select(Delivery.id)
                                             .where(Delivery.spool_key == item.key)).scalar()
            except Exception as exc:
                if is_outage(exc):
                    raise
                self._failed_import(path, item.key, exc)
                continue
            with self._tries_lock:
                self._import_tries.pop(item.key, None)
            if exists is not None:
                path.unlink(missing_ok=True)
                imported += 1
            if imported >= limit:
                break
        if imported:
            log.info("imported spooled deliveries", extra={"count": imported})
        return imported

    def _failed_import(self, path: Path, key: str, exc: Exception) -> None:
        with self._tries_lock:
            tries = self._import_tries[key] = self._import_tries.get(key, 0) + 1
            if tries >= MAX_TRIES:
                del self._import_tries[key]
        if tries < MAX_TRIES:
            log.warning("importing a spooled delivery failed; it will be tried again",
                        extra={"spool_key": key, "tries": tries, "error": describe(exc)})
            return
        with contextlib.suppress(FileNotFoundError):  # another importer got there first
            self.spool.quarantine(path, f"import failed {tries} times; the last time with "
                                        f"{describe(exc)}")


def _delivery_values(item: IncomingDelivery | SpooledDelivery, *, spool_key: str | None = None,
                     source: str | None = None) -> dict[str, object]:
    return {
        "shop": item.shop, "source": source or item.source, "received_at": item.received_at,
        "topic": _fit(item.topic, "topic"), "webhook_id": _fit(item.webhook_id, "webhook_id"),
        "delivery_id": _fit(item.delivery_id, "delivery_id"),
        "headers": item.headers, "body": item.body,
        "body_sha256": hashlib.sha256(item.body).hexdigest(), "status": DeliveryStatus.RECEIVED,
        "spool_key": spool_key,
    }


def _spooled(incoming: IncomingDelivery, key: str) -> SpooledDelivery:
    return SpooledDelivery(
        key=key, shop=incoming.shop, source=incoming.source, received_at=incoming.received_at,
        topic=incoming.topic, webhook_id=incoming.webhook_id, delivery_id=incoming.delivery_id,
        headers=incoming.headers, body=incoming.body,
    )


def _fit(value: str | None, column: str) -> str | None:
    """A header value made storable in its column: NUL and lone surrogates escaped (no
    text column takes them on PostgreSQL), cut to the column's length."""
    if value is None:
        return None
    column_type = Delivery.__table__.c[column].type
    assert isinstance(column_type, String) and column_type.length
    return clip(value, column_type.length)
