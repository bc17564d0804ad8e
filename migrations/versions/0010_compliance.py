"""compliance: board eligibility grants, trading experience, daily assets, sticky forced tiers

Revision ID: 0010_compliance
Revises: 0011_margin_futures
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import brokerql.store.columns


revision = '0010_compliance'
down_revision = '0011_margin_futures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('client_daily_assets',
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('assets', brokerql.store.columns.Money(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], ),
    sa.PrimaryKeyConstraint('client_id', 'day')
    )
    with op.batch_alter_table('client_profile') as batch:
        batch.add_column(sa.Column('eligibility_grants', brokerql.store.columns.JsonText(), nullable=False,
                                   server_default='[]'))
        batch.add_column(sa.Column('trading_since', sa.Date(), nullable=True))
        batch.add_column(sa.Column('forced_tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch.add_column(sa.Column('forced_until', brokerql.store.columns.UtcDateTime(timezone=True), nullable=True))


    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('unsettled_later', brokerql.store.columns.Money(), nullable=False, server_default='0'))
    with op.batch_alter_table('parked_order') as batch:
        batch.add_column(sa.Column('risk_acknowledged', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('login_guard') as batch:
        batch.add_column(sa.Column('updated_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False,
                                   server_default=sa.func.current_timestamp()))


def downgrade() -> None:
    with op.batch_alter_table('login_guard') as batch:
        batch.drop_column('updated_at')
    with op.batch_alter_table('account') as batch:
        batch.drop_column('unsettled_later')
    with op.batch_alter_table('parked_order') as batch:
        batch.drop_column('risk_acknowledged')
    with op.batch_alter_table('client_profile') as batch:
        batch.drop_column('forced_until')
        batch.drop_column('forced_tier')
        batch.drop_column('trading_since')
        batch.drop_column('eligibility_grants')
    op.drop_table('client_daily_assets')
