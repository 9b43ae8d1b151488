"""Small storage helpers shared by intake, dispatch and the admin API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.clock import utcnow
from bridge.storage.models import Base, DispatchAttempt, OrderSync, ShopState, SyncEvent
from bridge.storage.states import UNKNOWN_OUTCOMES


def insert_ignoring_conflicts(session: Session, model: type[Base], values: Mapping[str, Any],
                              conflict: Sequence[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING, on either database. True if a row was inserted.

    (RETURNING, not rowcount: with PostgreSQL's implicit RETURNING rowcount reads -1.)
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    primary_key = list(cast(Table, model.__table__).primary_key.columns)
    result = session.execute(insert(model).values(**values)
                             .on_conflict_do_nothing(index_elements=conflict)
                             .returning(*primary_key))
    return result.first() is not None


def lock_sync_row(session: Session, shop: str, order_id: int,
                  *, upstream: str) -> tuple[OrderSync, bool]:
    """The sync row for (shop, order id), created if missing, locked for this transaction;
    and whether it was just created.

    New rows start as ``pending`` with no ``next_attempt_at``: not claimable until the
    caller decides their real state in the same transaction.
    """
    now = utcnow()
    created = insert_ignoring_conflicts(
        session, OrderSync,
        {"shop": shop, "order_id": order_id, "state": "pending", "upstream": upstream,
         "attempts": 0, "created_at": now, "updated_at": now, "deleted_in_shop": False},
        ["shop", "order_id"],
    )
    return find_sync_row(session, shop, order_id, lock=True), created  # type: ignore[return-value]


def find_sync_row(session: Session, shop: str, order_id: int, *,
                  lock: bool = False) -> OrderSync | None:
    query = select(OrderSync).where(OrderSync.shop == shop, OrderSync.order_id == order_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def add_event(session: Session, row: OrderSync, kind: str, detail: str) -> None:
    session.add(SyncEvent(sync_id=row.id, kind=kind, detail=detail[:4000], at=utcnow()))


def had_unknown_outcome(session: Session, row: OrderSync) -> bool:
    """Whether an attempt since the row was last queued afresh may have created its invoice
    (an answer lost or unreadable, a worker killed mid-send)."""
    since = row.first_attempt_at
    query = select(exists().where(
        DispatchAttempt.sync_id == row.id, DispatchAttempt.outcome.in_(UNKNOWN_OUTCOMES),
        *([DispatchAttempt.started_at >= since] if since is not None else [])))
    return bool(session.execute(query).scalar())


def paused_shops(session: Session) -> dict[str, str]:
    rows = session.execute(select(ShopState.shop, ShopState.paused_reason)
                           .where(ShopState.paused.is_(True)))
    return {shop: reason or "" for shop, reason in rows}


def set_shop_paused(session: Session, shop: str, paused: bool, reason: str | None) -> bool:
    """Pause or resume a shop's dispatch; returns True if that changed anything."""
    now = utcnow()
    insert_ignoring_conflicts(session, ShopState,
                              {"shop": shop, "paused": False, "updated_at": now}, ["shop"])
    state = session.execute(select(ShopState).where(ShopState.shop == shop).with_for_update()
                            ).scalar_one()
    if state.paused == paused and (not paused or state.paused_reason == reason):
        return False
    state.paused = paused
    state.paused_reason = reason if paused else None
    state.paused_at = now if paused else None
    state.updated_at = now
    return True
