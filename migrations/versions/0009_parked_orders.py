"""parked orders

Revision ID: 0009_parked_orders
Revises: 0007_execution_reports
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import brokerql.store.columns


revision = '0009_parked_orders'
down_revision = '0007_execution_reports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parked_order',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('trigger_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('trigger_price', brokerql.store.columns.Money(length=40), nullable=True),
    sa.Column('trigger_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('valid_until', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price', brokerql.store.columns.Money(length=40), nullable=True),
    sa.Column('price_level', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('client_order_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('time_in_force', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('claim_token', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('claimed_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('placed_order_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('failure_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('failure_reason', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('created_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parked_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parked_order_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_parked_order_status_symbol', ['status', 'symbol'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parked_order', schema=None) as batch_op:
        batch_op.drop_index('ix_parked_order_status_symbol')
        batch_op.drop_index(batch_op.f('ix_parked_order_account_id'))

    op.drop_table('parked_order')
