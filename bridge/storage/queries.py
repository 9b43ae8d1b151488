"""Read-side queries shared by the admin API, the CLI, /readyz and /metrics."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bridge.errors import invalid
from bridge.storage.models import (
    IS_DUE,
    IS_SENDING,
    OrderSync,
    OrderTask,
    OrderWriteBack,
    WorkerHeartbeat,
)


@dataclass(frozen=True)
class RowFilter:
    shop: str | None = None
    states: Sequence[str] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    #: order number (or id) search: exact id, or a substring of the order number
    search: str | None = None


#: a cursor this API returns is about 60 characters; anything much longer is not one of ours
MAX_CURSOR_CHARS = 200
_MAX_ROW_ID = 2**63 - 1  # BIGINT
_NOT_OURS = "not a cursor this API returned"


def encode_cursor(row: OrderSync) -> str:
    raw = json.dumps([row.updated_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """(updated_at, id) from ``encode_cursor``'s text; a ``Refused`` naming ``cursor``
    (invalid input) for anything else -- too long, nested, a non-integer or out-of-range id
    -- so that it is a 400, never a database error."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise invalid("cursor", f"{_NOT_OURS} (longer than {MAX_CURSOR_CHARS} characters)")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error, RecursionError) as exc:
        raise invalid("cursor", _NOT_OURS) from exc
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and type(value[1]) is int and 1 <= value[1] <= _MAX_ROW_ID):
        raise invalid("cursor", _NOT_OURS)
    try:
        return datetime.fromisoformat(value[0]), value[1]
    except ValueError as exc:
        raise invalid("cursor", _NOT_OURS) from exc


def list_rows(session: Session, where: RowFilter, *, limit: int = 50,
              cursor: str | None = None) -> tuple[list[OrderSync], str | None]:
    """Rows, most recently changed first, by keyset pagination on (updated_at, id): stable
    and fast however deep the page, unlike OFFSET."""
    query = select(OrderSync)
    if where.shop:
        query = query.where(OrderSync.shop == where.shop)
    if where.states:
        query = query.where(OrderSync.state.in_(list(where.states)))
    for column, bound, after in (
        (OrderSync.created_at, where.created_after, True),
        (OrderSync.created_at, where.created_before, False),
        (OrderSync.updated_at, where.updated_after, True),
        (OrderSync.updated_at, where.updated_before, False),
    ):
        if bound is not None:
            query = query.where(column >= bound if after else column < bound)
    if where.search:
        term = where.search.strip()
        conditions = [OrderSync.order_number.contains(term, autoescape=True)]
        if re.fullmatch(r"[0-9]{1,18}", term):  # an order id (and never past BIGINT)
            conditions.append(OrderSync.order_id == int(term))
        query = query.where(or_(*conditions))
    if cursor:
        updated, row_id = decode_cursor(cursor)
        query = query.where(or_(OrderSync.updated_at < updated,
                                and_(OrderSync.updated_at == updated, OrderSync.id < row_id)))
    rows = list(session.execute(query.order_by(OrderSync.updated_at.desc(), OrderSync.id.desc())
                                .limit(limit + 1)).scalars())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def counts_by_state(session: Session) -> dict[str, dict[str, int]]:
    """{shop: {state: count}}."""
    counts: dict[str, dict[str, int]] = {}
    for shop, state, count in session.execute(
            select(OrderSync.shop, OrderSync.state, func.count())
            .group_by(OrderSync.shop, OrderSync.state)):
        counts.setdefault(shop, {})[state] = count
    return counts


#: the kind write-backs (``order_writebacks``) are counted under beside the tasks
WRITEBACK_KIND = "write-back"


def tasks_by_state(session: Session) -> dict[str, dict[str, dict[str, int]]]:
    """{shop: {kind: {state: count}}} of the follow-up tasks, and of the write-backs to the
    shop (kind ``write-back``)."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for shop, kind, state, count in session.execute(
            select(OrderTask.shop, OrderTask.kind, OrderTask.state, func.count())
            .group_by(OrderTask.shop, OrderTask.kind, OrderTask.state)):
        counts.setdefault(shop, {}).setdefault(kind, {})[state] = count
    # write-backs to the shop are the same kind of work, counted the same way
    for shop, state, count in session.execute(
            select(OrderWriteBack.shop, OrderWriteBack.state, func.count())
            .group_by(OrderWriteBack.shop, OrderWriteBack.state)):
        counts.setdefault(shop, {}).setdefault(WRITEBACK_KIND, {})[state] = count
    return counts


def oldest_due(session: Session, now: datetime) -> datetime | None:
    """When the longest-waiting due row became due (None if nothing is due)."""
    return session.execute(select(func.min(OrderSync.next_attempt_at)).where(
        IS_DUE, OrderSync.next_attempt_at <= now)).scalar()


def stuck_sending(session: Session, now: datetime) -> int:
    return session.execute(select(func.count()).select_from(OrderSync).where(
        IS_SENDING, OrderSync.lease_until < now)).scalar_one()


def live_workers(session: Session, now: datetime, stale_after: float) -> list[WorkerHeartbeat]:
    return list(session.execute(select(WorkerHeartbeat).where(
        WorkerHeartbeat.stopped_at.is_(None),
        WorkerHeartbeat.heartbeat_at > now - timedelta(seconds=stale_after))
        .order_by(WorkerHeartbeat.heartbeat_at.desc())).scalars())


def latest_heartbeat(session: Session) -> datetime | None:
    return session.execute(select(func.max(WorkerHeartbeat.heartbeat_at)).where(
        WorkerHeartbeat.stopped_at.is_(None))).scalar()
