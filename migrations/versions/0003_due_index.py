"""order_sync: partial indexes for the due rows (in claim order) and for the leases

The claim reads "due rows by next_attempt_at, id, first N". With only the (state,
next_attempt_at) index, state IN ('pending', 'retrying') made both databases fetch and sort
every due row per claim, so a claim slowed down as the backlog grew (docs/benchmarks.md). This
index holds only due rows, already in claim order; it replaces (state, next_attempt_at).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = sa.text("state IN ('pending', 'retrying')")
SENDING = sa.text("state = 'sending'")


def upgrade() -> None:
    op.create_index('ix_order_sync_due', 'order_sync', ['next_attempt_at', 'id'],
                    postgresql_where=DUE, sqlite_where=DUE)
    # Replaced: SQLite's planner preferred them and sorted every due row again. Leases get a
    # partial index of their own, which is never a candidate for the due query.
    op.drop_index('ix_order_sync_state_next_attempt_at', table_name='order_sync')
    op.create_index('ix_order_sync_leases', 'order_sync', ['lease_until'],
                    postgresql_where=SENDING, sqlite_where=SENDING)
    op.drop_index('ix_order_sync_state_lease_until', table_name='order_sync')


def downgrade() -> None:
    op.create_index('ix_order_sync_state_lease_until', 'order_sync', ['state', 'lease_until'])
    op.drop_index('ix_order_sync_leases', table_name='order_sync')
    op.create_index('ix_order_sync_state_next_attempt_at', 'order_sync',
                    ['state', 'next_attempt_at'])
    op.drop_index('ix_order_sync_due', table_name='order_sync')
