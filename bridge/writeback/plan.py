"""Which orders' write-back is due, and the one ``order_writebacks`` item per order.

A sweep, not a hook: rows stop in their states on many paths (the intake, the recording of
an answer -- in bulk, past the ORM --, the reaper, an operator), and every one of them sets
``order_sync.updated_at``. The sweep reads the settled rows of write-back shops updated since
its cursor (``ix_order_sync_updated_at_id``) whose item has not seen that update, and plans
each: the item's ``target`` becomes the row's key if it differs, and the item is due. The
cursor looks back ``OVERLAP`` behind the newest update it saw, so a transaction that
committed late (its ``updated_at`` older than rows already swept) is still found; a worker
starting afresh looks back ``START_WINDOW``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.clock import utcnow
from bridge.config.model import Settings, ShopSettings
from bridge.storage.models import OrderSync, OrderWriteBack
from bridge.storage.repository import insert_ignoring_conflicts
from bridge.storage.states import WRITTEN_BACK_STATES, WriteBackState
from bridge.upstreams.registry import PLUGINS, UpstreamRegistry
from bridge.writeback import text

#: how far behind the newest update seen each sweep starts again (late commits)
OVERLAP = timedelta(minutes=5)
#: how far back a worker's first sweep looks (orders settled while no worker ran)
START_WINDOW = timedelta(days=1)
#: rows planned per sweep
BATCH = 200


def writes_back(shop: ShopSettings | None) -> bool:
    return shop is not None and shop.woocommerce is not None and shop.woocommerce.write_back


def shops_writing_back(settings: Settings) -> list[str]:
    return [shop.id for shop in settings.shops.values() if writes_back(shop)]


class Planner:
    """The sweep of one worker (its cursor lives in memory: a restart looks back further)."""

    def __init__(self, settings: Settings, upstreams: UpstreamRegistry) -> None:
        self.settings = settings
        self.upstreams = upstreams
        self.shops = shops_writing_back(settings)
        self.cursor: datetime | None = None
        self._newest: datetime | None = None

    def sweep(self, session: Session, *, now: datetime) -> int:
        """Plan what changed since the last sweep; returns how many items became due."""
        if not self.shops:
            return 0
        if self.cursor is None:  # updated_at comes from the clock of whoever wrote the row
            self.cursor = min(now, utcnow()) - START_WINDOW
        rows = list(session.execute(
            select(OrderSync, OrderWriteBack)
            .outerjoin(OrderWriteBack, OrderWriteBack.sync_id == OrderSync.id)
            .where(OrderSync.updated_at >= self.cursor, OrderSync.shop.in_(self.shops),
                   OrderSync.state.in_([state.value for state in WRITTEN_BACK_STATES]),
                   OrderWriteBack.row_updated_at.is_distinct_from(OrderSync.updated_at))
            .order_by(OrderSync.updated_at, OrderSync.id).limit(BATCH)).all())
        due = sum(1 for row, _ in rows if plan(session, self.settings, self.upstreams, row,
                                               now=now))
        if rows:
            newest = max(row.updated_at for row, _ in rows)
            self._newest = max(self._newest or newest, newest)
            # a full batch: more wait at (or after) its newest; else caught up, and the next
            # sweep starts a little behind the newest update seen (late commits)
            self.cursor = max(self.cursor, newest if len(rows) == BATCH
                              else self._newest - OVERLAP)
        return due


def plan(session: Session, settings: Settings, upstreams: UpstreamRegistry, row: OrderSync,
         *, now: datetime) -> bool:
    """Make ``row``'s item hold what the shop is to show; True if it became due."""
    shop = settings.shops.get(row.shop)
    if shop is None or shop.woocommerce is None or not writes_back(shop):
        return False
    wanted = text.for_row(row, service=_service(row.upstream), customer_note=(
        shop.woocommerce.customer_note), invoice_url=_invoice_url(upstreams, row))
    created = insert_ignoring_conflicts(session, OrderWriteBack, {
        "sync_id": row.id, "shop": row.shop, "order_id": row.order_id,
        "state": WriteBackState.PENDING.value, "target": wanted.key,
        "payload": wanted.payload(), "noted": [], "attempts": 0, "next_attempt_at": now,
        "created_at": now, "updated_at": now, "row_updated_at": row.updated_at}, ["sync_id"])
    item = session.execute(select(OrderWriteBack).where(OrderWriteBack.sync_id == row.id)
                           .with_for_update().execution_options(populate_existing=True)
                           ).scalar_one()
    item.row_updated_at = row.updated_at
    if created:
        return True
    if item.target == wanted.key:
        return False  # planned already (maybe written): nothing new to show
    item.target, item.payload = wanted.key, wanted.payload()
    item.updated_at = now
    if item.written == wanted.key:  # the order shows it already (it came back to it)
        item.state, item.next_attempt_at, item.done_at = WriteBackState.DONE, None, now
        return False
    if item.state != WriteBackState.SENDING:  # else its recording sees the new target
        item.state, item.next_attempt_at = WriteBackState.PENDING, now
        item.attempts, item.first_attempt_at, item.last_error = 0, None, None
    return True


def _service(kind: str) -> str:
    plugin = PLUGINS.get(kind)
    return plugin.title if plugin is not None else kind


def _invoice_url(upstreams: UpstreamRegistry, row: OrderSync) -> str | None:
    """The invoice's address at the upstream, where it can say (``invoice_url``)."""
    if not row.invoice_id:
        return None
    try:
        upstream = upstreams.for_shop(row.shop)
    except KeyError:
        return None
    link = getattr(upstream, "invoice_url", None)
    return link(row.invoice_id) if callable(link) else None
