"""order_writebacks: the invoice (or why it is missing) written back to the shop's order;
shop_state.writeback_paused / writeback_paused_reason

A new table and two new columns: nothing existing is rebuilt or rewritten.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITEBACK_DUE = "state IN ('pending', 'retrying')"


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'order_writebacks',
        sa.Column('id', big_id, nullable=False),
        sa.Column('sync_id', big_id, nullable=False),
        sa.Column('shop', sa.String(length=64), nullable=False),
        sa.Column('order_id', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=128), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('written', sa.String(length=128), nullable=True),
        sa.Column('noted', sa.JSON(), nullable=False),
        sa.Column('row_updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lease_owner', sa.String(length=128), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_http_status', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['sync_id'], ['order_sync.id'],
                                name=op.f('fk_order_writebacks_sync_id_order_sync'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_writebacks')),
        sa.UniqueConstraint('sync_id', name=op.f('uq_order_writebacks_sync_id')),
    )
    op.create_index('ix_order_writebacks_due', 'order_writebacks', ['next_attempt_at', 'id'],
                    postgresql_where=sa.text(WRITEBACK_DUE), sqlite_where=sa.text(WRITEBACK_DUE))
    op.create_index('ix_order_writebacks_shop_state', 'order_writebacks', ['shop', 'state'])
    with op.batch_alter_table('shop_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('writeback_paused', sa.Boolean(), nullable=False,
                                      server_default=sa.text('false')))
        batch_op.add_column(sa.Column('writeback_paused_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shop_state', schema=None) as batch_op:
        batch_op.drop_column('writeback_paused_reason')
        batch_op.drop_column('writeback_paused')
    op.drop_index('ix_order_writebacks_shop_state', table_name='order_writebacks')
    op.drop_index('ix_order_writebacks_due', table_name='order_writebacks')
    op.drop_table('order_writebacks')
