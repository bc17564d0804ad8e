"""execution report journal and venue lease fence

Revision ID: 0007_execution_reports
Revises: 0004_articles
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import brokerql.store.columns


revision = '0007_execution_reports'
down_revision = '0005_persisted_operations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('venue_lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('acquired_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_match_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_quote_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('execution_report',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('exec_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('exec_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('last_qty', sa.Integer(), nullable=False),
    sa.Column('report', brokerql.store.columns.JsonText(), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.Column('booked', sa.Boolean(), nullable=False),
    sa.Column('created_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('exec_id')
    )
    op.create_index('ix_execution_report_booked_seq', 'execution_report', ['booked', 'seq'], unique=False)
    op.create_index(op.f('ix_execution_report_order_id'), 'execution_report', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_execution_report_order_id'), table_name='execution_report')
    op.drop_index('ix_execution_report_booked_seq', table_name='execution_report')
    op.drop_table('execution_report')
    op.drop_table('venue_lease')
