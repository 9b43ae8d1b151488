"""order_tasks: follow-up actions on invoiced orders (payments, cancellations, corrections)

A new table only: nothing existing is rebuilt or rewritten.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TASK_DUE = "state IN ('pending', 'retrying')"


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    upstream_text = sa.String(length=128).with_variant(sa.Text(), 'postgresql')
    op.create_table(
        'order_tasks',
        sa.Column('id', big_id, nullable=False),
        sa.Column('sync_id', big_id, nullable=False),
        sa.Column('shop', sa.String(length=64), nullable=False),
        sa.Column('order_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lease_owner', sa.String(length=128), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('unknown', sa.Boolean(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_http_status', sa.Integer(), nullable=True),
        sa.Column('reference', upstream_text, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['sync_id'], ['order_sync.id'],
                                name=op.f('fk_order_tasks_sync_id_order_sync'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_tasks')),
        sa.UniqueConstraint('sync_id', 'kind', 'key',
                            name=op.f('uq_order_tasks_sync_id_kind_key')),
    )
    op.create_index('ix_order_tasks_due', 'order_tasks', ['next_attempt_at', 'id'],
                    postgresql_where=sa.text(TASK_DUE), sqlite_where=sa.text(TASK_DUE))
    op.create_index('ix_order_tasks_shop_state', 'order_tasks', ['shop', 'state'])


def downgrade() -> None:
    op.drop_index('ix_order_tasks_shop_state', table_name='order_tasks')
    op.drop_index('ix_order_tasks_due', table_name='order_tasks')
    op.drop_table('order_tasks')
