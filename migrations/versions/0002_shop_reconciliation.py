"""shop_state.reconciled_at / reconcile_result: the periodic REST reconciliation per shop

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.storage.models


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('shop_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reconciled_at', bridge.storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reconcile_result', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('shop_state', schema=None) as batch_op:
        batch_op.drop_column('reconcile_result')
        batch_op.drop_column('reconciled_at')

