"""initial schema: deliveries, order_sync, dispatch_attempts, sync_events, shop_state,
worker_heartbeats

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.storage.models


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('received_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=True),
    sa.Column('webhook_id', sa.String(length=32), nullable=True),
    sa.Column('delivery_id', sa.String(length=64), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('order_id', sa.BigInteger(), nullable=True),
    sa.Column('processed_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('spool_key', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('spool_key', name=op.f('uq_deliveries_spool_key'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_shop_order_id', ['shop', 'order_id'], unique=False)
        batch_op.create_index('ix_deliveries_status_id', ['status', 'id'], unique=False)

    op.create_table('shop_state',
    sa.Column('shop', sa.String(length=64), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('paused_reason', sa.Text(), nullable=True),
    sa.Column('paused_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('shop', name=op.f('pk_shop_state'))
    )
    op.create_table('worker_heartbeats',
    sa.Column('worker_id', sa.String(length=128), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_worker_heartbeats'))
    )
    op.create_table('order_sync',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=True),
    sa.Column('order_status', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('upstream', sa.String(length=32), nullable=False),
    sa.Column('invoice_id', sa.String(length=128), nullable=True),
    sa.Column('invoice_number', sa.String(length=128), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_attempt_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_http_status', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('synced_hash', sa.String(length=64), nullable=True),
    sa.Column('snapshot_modified_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('deleted_in_shop', sa.Boolean(), nullable=False),
    sa.Column('synced_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['last_delivery_id'], ['deliveries.id'], name=op.f('fk_order_sync_last_delivery_id_deliveries'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_sync')),
    sa.UniqueConstraint('shop', 'order_id', name=op.f('uq_order_sync_shop_order_id'))
    )
    with op.batch_alter_table('order_sync', schema=None) as batch_op:
        batch_op.create_index('ix_order_sync_shop_state', ['shop', 'state'], unique=False)
        batch_op.create_index('ix_order_sync_state_lease_until', ['state', 'lease_until'], unique=False)
        batch_op.create_index('ix_order_sync_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_order_sync_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('dispatch_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sync_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=True),
    sa.Column('worker', sa.String(length=128), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('invoice_id', sa.String(length=128), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['sync_id'], ['order_sync.id'], name=op.f('fk_dispatch_attempts_sync_id_order_sync'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_attempts'))
    )
    with op.batch_alter_table('dispatch_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_dispatch_attempts_sync_id_id', ['sync_id', 'id'], unique=False)

    op.create_table('sync_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sync_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', bridge.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['sync_id'], ['order_sync.id'], name=op.f('fk_sync_events_sync_id_order_sync'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_events'))
    )
    with op.batch_alter_table('sync_events', schema=None) as batch_op:
        batch_op.create_index('ix_sync_events_sync_id_id', ['sync_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sync_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_events_sync_id_id')

    op.drop_table('sync_events')
    with op.batch_alter_table('dispatch_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_dispatch_attempts_sync_id_id')

    op.drop_table('dispatch_attempts')
    with op.batch_alter_table('order_sync', schema=None) as batch_op:
        batch_op.drop_index('ix_order_sync_updated_at_id')
        batch_op.drop_index('ix_order_sync_state_next_attempt_at')
        batch_op.drop_index('ix_order_sync_state_lease_until')
        batch_op.drop_index('ix_order_sync_shop_state')

    op.drop_table('order_sync')
    op.drop_table('worker_heartbeats')
    op.drop_table('shop_state')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_status_id')
        batch_op.drop_index('ix_deliveries_shop_order_id')

    op.drop_table('deliveries')
