"""futures positions and margin held; margin-trading liabilities and lending pool; ETF creations

Revision ID: 0011_margin_futures
Revises: 0008_baskets
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import brokerql.store.columns


revision = '0011_margin_futures'
down_revision = '0008_baskets'
branch_labels = None
depends_on = None


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, brokerql.store.columns.Money(length=40), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('margin', brokerql.store.columns.Money(length=40), nullable=False, server_default='0'))
    op.create_table('futures_position',
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('yd_quantity', sa.Integer(), nullable=False),
    sa.Column('td_quantity', sa.Integer(), nullable=False),
    sa.Column('frozen_quantity', sa.Integer(), nullable=False),
    sa.Column('pending_open', sa.Integer(), nullable=False),
    _money('settle_price'),
    _money('td_cost'),
    _money('open_cost'),
    _money('margin'),
    sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('account_id', 'symbol')
    )


    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='NORMAL'))
    op.create_table('credit_account',
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    _money('credit_line'),
    _money('warning_line'),
    _money('liquidation_line'),
    _money('financing_rate'),
    _money('lending_rate'),
    sa.Column('zone', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('accrued_until', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('credit_debt',
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    _money('principal'),
    _money('interest'),
    _money('held'),
    sa.Column('pending_quantity', sa.Integer(), nullable=False),
    _money('pending_amount'),
    sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('account_id', 'kind', 'symbol')
    )
    op.create_table('lending_pool',
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('symbol')
    )
    op.create_table('etf_arbitrage_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('etf', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    _money('estimated_pnl'),
    sa.Column('first_orders', brokerql.store.columns.JsonText(), nullable=False),
    sa.Column('second_orders', brokerql.store.columns.JsonText(), nullable=False),
    _money('conversion_cash'),
    _money('realised_pnl', nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_etf_arbitrage_run_account_id'), 'etf_arbitrage_run', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_etf_arbitrage_run_account_id'), table_name='etf_arbitrage_run')
    op.drop_table('etf_arbitrage_run')
    op.drop_table('lending_pool')
    op.drop_table('credit_debt')
    op.drop_table('credit_account')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('purpose')
    op.drop_table('futures_position')
    with op.batch_alter_table('account') as batch:
        batch.drop_column('margin')
