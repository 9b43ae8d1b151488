"""What the intake has not finished: deliveries waiting to be processed, and the ones that
were quarantined (processing failed ``MAX_TRIES`` times). Read by /readyz, /metrics, the
``status`` command and the admin API; ``retry`` is the operator's way back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from bridge.storage.models import Delivery
from bridge.storage.notify import notify_workers
from bridge.storage.states import DeliveryStatus

#: Delivery.status values
RECEIVED, PROCESSED, QUARANTINED = (DeliveryStatus.RECEIVED, DeliveryStatus.PROCESSED,
                                    DeliveryStatus.QUARANTINED)
STATUSES = tuple(DeliveryStatus)


@dataclass(frozen=True)
class IntakeBacklog:
    #: deliveries stored but not processed yet, and when the oldest of them arrived
    unprocessed: int = 0
    oldest_unprocessed_at: datetime | None = None
    #: quarantined deliveries by shop (shops without any are left out)
    quarantined: dict[str, int] = field(default_factory=dict)

    def oldest_unprocessed_age(self, now: datetime) -> float:
        """Seconds the oldest unprocessed delivery has waited (0 if none waits)."""
        if self.oldest_unprocessed_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_unprocessed_at).total_seconds())


def intake_backlog(session: Session) -> IntakeBacklog:
    # both are read through ix_deliveries_status_id: only the rows in that status
    unprocessed, oldest = session.execute(
        select(func.count(), func.min(Delivery.received_at))
        .where(Delivery.status == RECEIVED)).one()
    quarantined = {shop: count for shop, count in session.execute(
        select(Delivery.shop, func.count()).where(Delivery.status == QUARANTINED)
        .group_by(Delivery.shop))}
    return IntakeBacklog(unprocessed, oldest, quarantined)


def list_deliveries(session: Session, *, status: str | None = None, shop: str | None = None,
                    limit: int = 50, before_id: int | None = None
                    ) -> tuple[list[Delivery], int | None]:
    """Deliveries, newest first (by id), and the id to pass as ``before_id`` for the next
    page (None on the last page)."""
    query = select(Delivery)
    if status:
        query = query.where(Delivery.status == status)
    if shop:
        query = query.where(Delivery.shop == shop)
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    rows = list(session.execute(query.order_by(Delivery.id.desc()).limit(limit + 1)).scalars())
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def retry(delivery: Delivery) -> None:
    """A quarantined delivery goes back to be processed, with its tries counted afresh (after
    whatever made it fail was fixed)."""
    delivery.status = RECEIVED
    delivery.tries = 0
    delivery.processed_at = None
    delivery.reason = f"retried by an operator; before: {delivery.reason or ''}"[:4000]
    session = object_session(delivery)
    if session is not None:  # wake the workers when the caller's transaction commits
        notify_workers(session)
