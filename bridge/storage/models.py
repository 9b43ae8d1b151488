"""The tables. One migration history (``migrations/``) serves SQLite and PostgreSQL.

- ``deliveries``: every authentic request WooCommerce sent (raw bytes and X-WC headers), kept
  for audit and replay, plus what processing made of it;
- ``order_sync``: the sync table, one row per (shop, order id): the latest snapshot's mapped
  payload, the upstream invoice id and the dispatch state (see ``states.py``);
- ``dispatch_attempts``: every call made upstream for a row, with its outcome;
- ``sync_events``: what happened to a row besides attempts (snapshots, operator actions);
- ``shop_state``: per-shop switches (dispatch paused, and why);
- ``worker_heartbeats``: which workers are alive, for readiness and leases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bridge.clock import utcnow
from bridge.storage.states import DUE_STATES, DUE_TASK_STATES, DUE_WRITEBACK_STATES, SyncState

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")
#: Text the upstream (or an operator) chooses, of no documented length -- an invoice id or
#: number: unbounded on PostgreSQL (migration 0004), so a long one is stored rather than
#: failing the statement that records an answer. SQLite never enforces a VARCHAR length.
UpstreamText = String(128).with_variant(Text(), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Delivery(Base):
    """Header values are the sender's to choose: ``topic``, ``webhook_id`` and ``delivery_id``
    are stored cut to their column (``bridge.intake.store``); ``headers`` always holds them
    whole, with ``body`` the raw bytes."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop: Mapped[str] = mapped_column(String(64))
    #: webhook | backfill | spool (imported after a database outage)
    source: Mapped[str] = mapped_column(String(16), default="webhook")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    topic: Mapped[str | None] = mapped_column(String(200))
    webhook_id: Mapped[str | None] = mapped_column(String(32))
    #: X-WC-Webhook-Delivery-ID: kept for support, never used as a key (it repeats).
    delivery_id: Mapped[str | None] = mapped_column(String(64))
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))
    #: received -> processed, or -> quarantined when processing failed MAX_TRIES times
    #: (bridge/intake/failures.py); ``reason`` says why
    status: Mapped[str] = mapped_column(String(16), default="received")
    #: what processing concluded: applied | unchanged | stale | ignored | invalid |
    #: error_payload (error: recorded by older versions for an exception of ours)
    outcome: Mapped[str | None] = mapped_column(String(16))
    #: processing tries that failed (not counting database outages)
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    reason: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    processed_at: Mapped[datetime | None] = mapped_column()
    #: name of the spool file this came from (unique, so a re-import cannot double it)
    spool_key: Mapped[str | None] = mapped_column(String(128), unique=True)

    __table_args__ = (
        Index("ix_deliveries_status_id", "status", "id"),
        Index("ix_deliveries_shop_order_id", "shop", "order_id"),
    )


#: "due" as literal SQL: a partial index is only used when the query's condition is written
#: with the same constants (bound parameters hide them from the planner).
_DUE_SQL = "state IN ({})".format(", ".join(f"'{state.value}'" for state in DUE_STATES))
_SENDING_SQL = f"state = '{SyncState.SENDING.value}'"


_TASK_DUE_SQL = "state IN ({})".format(
    ", ".join(f"'{state.value}'" for state in DUE_TASK_STATES))
_WRITEBACK_DUE_SQL = "state IN ({})".format(
    ", ".join(f"'{state.value}'" for state in DUE_WRITEBACK_STATES))


class OrderSync(Base):
    __tablename__ = "order_sync"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(BigInteger)
    #: at most MAX_ORDER_NUMBER and MAX_STATUS (bridge/mapping/woocommerce.py): a longer one
    #: makes the row invalid and is kept here shortened
    order_number: Mapped[str | None] = mapped_column(String(64))
    #: the WooCommerce status of the latest snapshot (processing, on-hold, ...); WordPress
    #: keeps it in a varchar(20)
    order_status: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    upstream: Mapped[str] = mapped_column(String(32))
    invoice_id: Mapped[str | None] = mapped_column(UpstreamText)
    invoice_number: Mapped[str | None] = mapped_column(UpstreamText)
    #: attempts that count towards max_attempts (reset by an operator resync)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    first_attempt_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    #: the rendered upstream request body (no credentials) for the latest snapshot
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    #: sha256 of ``payload``; equal hashes mean nothing the invoice shows has changed
    content_hash: Mapped[str | None] = mapped_column(String(64))
    #: sha256 of the payload the upstream accepted
    synced_hash: Mapped[str | None] = mapped_column(String(64))
    #: date_modified_gmt of the latest applied snapshot: older snapshots never overwrite it
    snapshot_modified_at: Mapped[datetime | None] = mapped_column()
    last_delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"))
    deleted_in_shop: Mapped[bool] = mapped_column(Boolean, default=False)
    synced_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("shop", "order_id"),
        # The due rows in claim order (migration 0003): a claim reads its first few only,
        # however long the backlog. Queries must say "due" with IS_DUE to use it.
        Index("ix_order_sync_due", "next_attempt_at", "id",
              postgresql_where=text(_DUE_SQL), sqlite_where=text(_DUE_SQL)),
        # Leases to reap (0003); partial too, so it is never a candidate for the due query.
        Index("ix_order_sync_leases", "lease_until",
              postgresql_where=text(_SENDING_SQL), sqlite_where=text(_SENDING_SQL)),
        Index("ix_order_sync_updated_at_id", "updated_at", "id"),
        Index("ix_order_sync_shop_state", "shop", "state"),
    )


class OrderTask(Base):
    """A follow-up action on an order whose invoice exists: record its payment, cancel the
    invoice, issue a correction for a refund (``bridge/followups``). Claimed, leased and
    retried like invoices; at most one per (order, kind, key)."""

    __tablename__ = "order_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("order_sync.id", ondelete="CASCADE"))
    shop: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(BigInteger)
    #: TaskKind
    kind: Mapped[str] = mapped_column(String(16))
    #: what makes this task unique for its order and kind ("paid", "refund:88", ...)
    key: Mapped[str] = mapped_column(String(64))
    #: TaskState
    state: Mapped[str] = mapped_column(String(16))
    #: what to send (amount, currency, dates, reason), decided when the task was planned
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    first_attempt_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column()
    #: an attempt's outcome was unknown: the next one looks the action up first
    unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    #: the upstream's id for what was done (a payment id, a correction's id)
    reference: Mapped[str | None] = mapped_column(UpstreamText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        UniqueConstraint("sync_id", "kind", "key"),
        Index("ix_order_tasks_due", "next_attempt_at", "id",
              postgresql_where=text(_TASK_DUE_SQL), sqlite_where=text(_TASK_DUE_SQL)),
        Index("ix_order_tasks_shop_state", "shop", "state"),
    )


class OrderWriteBack(Base):
    """What the shop is to show on an order (bridge/writeback): a note and
    ``_invoice_bridge_*`` meta for the state its row stopped in. One per order: a newer
    state replaces ``target`` (and ``payload``) while it waits, so only the latest is
    written. Claimed, leased and retried like invoices, against the shop's REST API."""

    __tablename__ = "order_writebacks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("order_sync.id", ondelete="CASCADE"),
                                         unique=True)
    shop: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(BigInteger)
    #: WriteBackState
    state: Mapped[str] = mapped_column(String(16))
    #: the key of what is to be written ("synced:<invoice id>", "failed:<digest>", ...)
    target: Mapped[str] = mapped_column(String(128))
    #: the note text and meta values for ``target``, decided when it was planned
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: the key the shop last confirmed (meta ``_invoice_bridge_key``); None before the first
    written: Mapped[str | None] = mapped_column(String(128))
    #: keys whose note is on the order already (newest last, bounded): a state the order
    #: comes back to gets its meta again, never a second note
    noted: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the sync row's ``updated_at`` when this was planned: a row updated since is looked at
    #: again (``bridge.writeback.plan``)
    row_updated_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    first_attempt_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_order_writebacks_due", "next_attempt_at", "id",
              postgresql_where=text(_WRITEBACK_DUE_SQL), sqlite_where=text(_WRITEBACK_DUE_SQL)),
        Index("ix_order_writebacks_shop_state", "shop", "state"),
    )


class DispatchAttempt(Base):
    __tablename__ = "dispatch_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("order_sync.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column()
    duration_ms: Mapped[float | None] = mapped_column(Float)
    worker: Mapped[str | None] = mapped_column(String(128))
    #: created | exists | retry | retry_unknown | throttled | paused | rejected | ambiguous |
    #: gave_up | interrupted | late | late_created | throttle_unknown | paused_unknown |
    #: withdrawn (see bridge/dispatch/outcomes.py)
    outcome: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    invoice_id: Mapped[str | None] = mapped_column(UpstreamText)
    content_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_dispatch_attempts_sync_id_id", "sync_id", "id"),)


class SyncEvent(Base):
    __tablename__ = "sync_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("order_sync.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: snapshot | state | operator | reaper
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_sync_events_sync_id_id", "sync_id", "id"),)


class ShopState(Base):
    __tablename__ = "shop_state"

    shop: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None] = mapped_column()
    #: the last periodic reconciliation with the shop's REST API, and how it went
    reconciled_at: Mapped[datetime | None] = mapped_column()
    reconcile_result: Mapped[str | None] = mapped_column(Text)
    #: write-back to the shop paused (its REST key was refused), apart from invoicing
    writeback_paused: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=text("false"))
    writeback_paused_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column()
    heartbeat_at: Mapped[datetime] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()


#: The condition of ix_order_sync_due, for queries that want due rows (see _DUE_SQL).
IS_DUE = OrderSync.state.in_([literal_column(f"'{state.value}'") for state in DUE_STATES])
#: The condition of ix_order_tasks_due.
TASK_IS_DUE = OrderTask.state.in_([literal_column(f"'{state.value}'")
                                   for state in DUE_TASK_STATES])
#: The condition of ix_order_writebacks_due.
WRITEBACK_IS_DUE = OrderWriteBack.state.in_([literal_column(f"'{state.value}'")
                                             for state in DUE_WRITEBACK_STATES])
#: The condition of ix_order_sync_leases: rows claimed by a worker.
IS_SENDING = OrderSync.state == literal_column(f"'{SyncState.SENDING.value}'")


#: The tables as Core ``Table`` objects, for statements built past the ORM (typed: the
#: declarative ``__table__`` is only known to be a ``FromClause``).
SYNC_ROWS = cast(Table, OrderSync.__table__)
TASKS = cast(Table, OrderTask.__table__)
WRITEBACKS = cast(Table, OrderWriteBack.__table__)
ATTEMPTS = cast(Table, DispatchAttempt.__table__)
