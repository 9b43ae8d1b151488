"""Claiming due work with a lease, and reaping leases whose worker died.

PostgreSQL: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``, so many
workers claim disjoint rows without waiting on each other. SQLite: the same statement
(SQLAlchemy drops FOR UPDATE there) inside ``BEGIN IMMEDIATE``, which serialises claimers on
the single write lock -- the shape Oban's SQLite engine uses.

A claimed row is ``sending`` with ``lease_owner`` (unique per claim) and ``lease_until``. One
row per order means two events of one order can never be dispatched at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, func, select, update
from sqlalchemy.orm import Session

from bridge.storage.database import Database
from bridge.storage.models import IS_DUE, IS_SENDING, SYNC_ROWS, OrderSync, OrderTask, ShopState
from bridge.storage.states import SyncState, TaskState


@dataclass(frozen=True)
class Claim:
    sync_id: int
    shop: str
    order_id: int
    payload: dict[str, Any]
    content_hash: str | None
    attempts: int
    first_attempt_at: datetime | None
    lease_owner: str
    lease_until: datetime
    #: claimed before since it was last queued afresh: a request may have reached the
    #: upstream -- also when it did not count as an attempt (a 429 or a paused shop whose
    #: answer proved nothing), so an upstream that can look invoices up is asked first
    sent_before: bool = False
    #: the order as the intake last saw it, when the row was claimed: an order withdrawn in
    #: the shop is only looked up, never created (``sending.py``)
    order_status: str | None = None
    deleted_in_shop: bool = False


def _claim_statement() -> Any:
    """The claim, built once with bind parameters: rebuilding it per call cost more than
    running it (statement construction and cache-key generation, ~0.8 ms of ~1.2 ms)."""
    now = bindparam("now", type_=OrderSync.next_attempt_at.type)
    paused = select(ShopState.shop).where(ShopState.paused.is_(True))
    due = (
        select(OrderSync.id)
        .where(IS_DUE, OrderSync.next_attempt_at <= now,
               # "|| ''" keeps the planner off the (shop, state) index: SQLite chose it and
               # then sorted every due row per claim; the due index needs no sort at all.
               (OrderSync.shop + "").in_(bindparam("shops", expanding=True)),
               OrderSync.shop.not_in(paused), OrderSync.payload.is_not(None))
        .order_by(OrderSync.next_attempt_at, OrderSync.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    return (
        update(SYNC_ROWS)
        .where(OrderSync.id.in_(due.scalar_subquery()))
        .values(state=SyncState.SENDING.value, lease_owner=bindparam("owner"),
                lease_until=bindparam("until", type_=OrderSync.lease_until.type),
                updated_at=now, first_attempt_at=func.coalesce(OrderSync.first_attempt_at, now))
        .returning(OrderSync.id, OrderSync.shop, OrderSync.order_id, OrderSync.payload,
                   OrderSync.content_hash, OrderSync.attempts, OrderSync.first_attempt_at,
                   OrderSync.order_status, OrderSync.deleted_in_shop)
    )


_CLAIM = _claim_statement()


def work_item_claim(model: Any, *, sending: str, due: Any, paused: Any,
                    returning: Sequence[Any], also: Sequence[Any] = ()) -> Any:
    """The same claim for a table of leased work items beside the sync rows (follow-up
    tasks, write-backs): ``due`` items of the ``shops`` bound in, not in ``paused``, oldest
    due first, up to ``limit``; built once with bind parameters like ``_CLAIM``."""
    now = bindparam("now", type_=model.next_attempt_at.type)
    chosen = (
        select(model.id)
        .where(due, model.next_attempt_at <= now,
               model.shop.in_(bindparam("shops", expanding=True)), model.shop.not_in(paused),
               *also)
        .order_by(model.next_attempt_at, model.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    return (
        update(model.__table__)
        .where(model.id.in_(chosen.scalar_subquery()))
        .values(state=sending, lease_owner=bindparam("owner"),
                lease_until=bindparam("until", type_=model.lease_until.type),
                updated_at=now, first_attempt_at=func.coalesce(model.first_attempt_at, now))
        .returning(*returning)
    )


def claim_due(db: Database, *, shops: Sequence[str], worker_id: str, limit: int,
              lease_seconds: float, now: datetime) -> list[Claim]:
    """Claim up to ``limit`` due rows in a transaction of their own."""
    if limit <= 0 or not shops:
        return []
    with db.transaction() as session:
        return claim_in(session.connection(), shops=shops, worker_id=worker_id, limit=limit,
                        lease_seconds=lease_seconds, now=now)


def claim_in(connection: Connection, *, shops: Sequence[str], worker_id: str, limit: int,
             lease_seconds: float, now: datetime) -> list[Claim]:
    """Claim up to ``limit`` due rows inside the caller's write transaction (the worker
    records finished dispatches and claims the next ones in one commit)."""
    if limit <= 0 or not shops:
        return []
    owner = f"{worker_id}/{uuid.uuid4().hex[:12]}"
    until = now + timedelta(seconds=lease_seconds)
    rows = connection.execute(_CLAIM, {
        "now": now, "shops": list(shops), "limit": limit, "owner": owner,
        "until": until}).all()
    # first_attempt_at is set by the first claim (coalesce above) and cleared only when the
    # row is queued afresh: set before this claim means a request went out before
    claims = [Claim(r.id, r.shop, r.order_id, r.payload, r.content_hash, r.attempts,
                    r.first_attempt_at, owner, until,
                    sent_before=r.attempts > 0 or r.first_attempt_at != now,
                    order_status=r.order_status, deleted_in_shop=r.deleted_in_shop)
              for r in rows]
    return sorted(claims, key=lambda c: c.sync_id)


def expired_leases(session: Session, *, now: datetime, limit: int = 100) -> list[OrderSync]:
    """Rows still ``sending`` after their lease ran out, locked for the caller."""
    return list(session.execute(
        select(OrderSync)
        .where(IS_SENDING, OrderSync.lease_until < now)
        .order_by(OrderSync.lease_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars())


def renew_leases(session: Session, owners: Collection[str], task_owners: Collection[str], *,
                 until: datetime) -> None:
    """Extend the leases ``owners`` still hold on rows being sent (and ``task_owners`` on
    tasks) to ``until``; a lease already lost stays lost."""
    if owners:
        session.execute(update(OrderSync).where(
            OrderSync.lease_owner.in_(list(owners)), IS_SENDING).values(lease_until=until)
            .execution_options(synchronize_session=False))
    if task_owners:
        session.execute(update(OrderTask).where(
            OrderTask.lease_owner.in_(list(task_owners)),
            OrderTask.state == TaskState.SENDING).values(lease_until=until)
            .execution_options(synchronize_session=False))
