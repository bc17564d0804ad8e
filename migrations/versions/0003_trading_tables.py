"""trading tables

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import brokerql.store.columns


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trading_preferences',
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('confirm_on_order', sa.Boolean(), nullable=False),
    sa.Column('confirm_on_cancel', sa.Boolean(), nullable=False),
    sa.Column('default_price_level', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('default_price', brokerql.store.columns.Money(length=40), nullable=True),
    sa.Column('default_quantity_ratio', brokerql.store.columns.Money(length=40), nullable=True),
    sa.Column('default_quantity_shares', sa.Integer(), nullable=True),
    sa.Column('hotkeys', brokerql.store.columns.JsonText(), nullable=False),
    sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.PrimaryKeyConstraint('client_id')
    )


def downgrade() -> None:
    op.drop_table('trading_preferences')
