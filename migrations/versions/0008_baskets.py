"""baskets and basket runs (C4); orders linked to a basket run or a paired buy/sell

Revision ID: 0008_baskets
Revises: 0009_parked_orders
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import brokerql.store.columns


revision = '0008_baskets'
down_revision = '0009_parked_orders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('basket',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('legs', brokerql.store.columns.JsonText(), nullable=False),
    sa.Column('default_quantity', sa.Integer(), nullable=True),
    sa.Column('default_amount', brokerql.store.columns.Money(length=40), nullable=True),
    sa.Column('created_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_basket_client_id'), 'basket', ['client_id'], unique=False)
    op.create_table('basket_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('basket_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('basket_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('legs', brokerql.store.columns.JsonText(), nullable=False),
    sa.Column('top_ups', sa.Integer(), nullable=False),
    sa.Column('created_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_basket_run_account_id'), 'basket_run', ['account_id'], unique=False)
    op.create_index(op.f('ix_basket_run_basket_id'), 'basket_run', ['basket_id'], unique=False)
    op.create_index(op.f('ix_basket_run_client_id'), 'basket_run', ['client_id'], unique=False)
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('basket_run_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.add_column(sa.Column('pair_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.create_index(batch.f('ix_orders_basket_run_id'), ['basket_run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.drop_index(batch.f('ix_orders_basket_run_id'))
        batch.drop_column('pair_id')
        batch.drop_column('basket_run_id')
    op.drop_index(op.f('ix_basket_run_client_id'), table_name='basket_run')
    op.drop_index(op.f('ix_basket_run_basket_id'), table_name='basket_run')
    op.drop_index(op.f('ix_basket_run_account_id'), table_name='basket_run')
    op.drop_table('basket_run')
    op.drop_index(op.f('ix_basket_client_id'), table_name='basket')
    op.drop_table('basket')
