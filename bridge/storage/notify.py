"""Waking workers through PostgreSQL: a NOTIFY wherever work becomes due now.

Every transaction that makes work due at once -- a stored delivery (webhook, spool import,
backfill), a resync, a resumed shop, a quarantined delivery sent back -- also says
``NOTIFY invoice_bridge``. PostgreSQL delivers it when, and only if, that transaction
commits, to every session listening on the channel: each worker keeps one
(``bridge.dispatch.listen``) and claims at once instead of waiting for its poll.

The payload is always empty: the notification says "look", never what (no order, no shop,
nothing personal), and identical notifications of one transaction reach a listener once.
A notification nobody hears (no worker listening, a listen connection being re-made) is no
loss: the worker's poll (``dispatch.poll_interval``) still finds every due row. On SQLite
there is nothing to send; the embedded ``run`` wakes its worker in-process.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, text
from sqlalchemy.orm import Session

#: the one channel; constant, so a listener needs nothing from the configuration
CHANNEL = "invoice_bridge"
_NOTIFY = text(f"NOTIFY {CHANNEL}")
#: ``pg_notify`` as a column of a statement's RETURNING (see ``bridge.intake.store``)
NOTIFY_COLUMN = func.pg_notify(CHANNEL, "")


def notify_workers(session: Session | Connection) -> None:
    """Queue the notification in the caller's transaction (nothing on SQLite)."""
    dialect = (session.dialect if isinstance(session, Connection)
               else session.get_bind().dialect)
    if dialect.name == "postgresql":
        session.execute(_NOTIFY)
