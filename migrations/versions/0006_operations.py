"""operations: trading halts, alert rules, alerts

Revision ID: 0006_operations
Revises: 0003
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import brokerql.store.columns


revision = '0006_operations'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trading_halt',
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('halted_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('halted_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('symbol')
    )
    op.create_table('alert_rule',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('figure', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('comparator', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('alert',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('raised_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('acknowledged_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_alert_raised_at'), 'alert', ['raised_at'], unique=False)
    op.create_index(op.f('ix_alert_rule'), 'alert', ['rule'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alert_rule'), table_name='alert')
    op.drop_index(op.f('ix_alert_raised_at'), table_name='alert')
    op.drop_table('alert')
    op.drop_table('alert_rule')
    op.drop_table('trading_halt')
