"""The order snapshot a sync row was last built from, read back from its stored delivery
(an operator's resync, a correction task re-map it with today's configuration)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.intake.body import read_body
from bridge.storage.models import Delivery, OrderSync


def latest_snapshot(session: Session, row: OrderSync) -> dict[str, Any] | None:
    """The row's latest applied snapshot as JSON data; None if there is none, or it is not
    a JSON object (read with the same depth bound as the intake)."""
    if row.last_delivery_id is None:
        return None
    body = session.execute(select(Delivery.body).where(Delivery.id == row.last_delivery_id)
                           ).scalar_one_or_none()
    if body is None:
        return None
    data = read_body(body).data
    return data if isinstance(data, dict) else None
