"""deliveries.tries (failed processing tries, for the quarantine); upstream invoice ids and
numbers unbounded on PostgreSQL

A delivery whose processing keeps failing (not a database outage) is tried at most a few
times and then quarantined: ``tries`` counts the failures. The invoice id and number are the
upstream's (or an operator's) text of no documented length: on PostgreSQL they become TEXT,
so a long one cannot fail the statement that records the answer. SQLite never enforces a
VARCHAR length, so nothing changes there -- and no table is rebuilt on either database.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPSTREAM_TEXT = [('order_sync', 'invoice_id'), ('order_sync', 'invoice_number'),
                 ('dispatch_attempts', 'invoice_id')]


def upgrade() -> None:
    # ADD COLUMN with a constant default: no rebuild on SQLite, no rewrite on PostgreSQL 11+
    op.add_column('deliveries', sa.Column('tries', sa.Integer(), nullable=False,
                                          server_default=sa.text('0')))
    if op.get_bind().dialect.name == 'postgresql':
        for table, column in UPSTREAM_TEXT:  # varchar -> text: no table rewrite either
            op.alter_column(table, column, type_=sa.Text(),
                            existing_type=sa.String(length=128), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table, column in UPSTREAM_TEXT:
            op.alter_column(table, column, type_=sa.String(length=128),
                            existing_type=sa.Text(), existing_nullable=True,
                            postgresql_using=f'left({column}, 128)')
    op.drop_column('deliveries', 'tries')
