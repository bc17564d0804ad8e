"""persisted operations: the registered GraphQL documents of client builds

Revision ID: 0005_persisted_operations
Revises: 0004_articles
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import brokerql.store.columns


revision = '0005_persisted_operations'
down_revision = '0004_articles'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('persisted_operation',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('operation_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('client_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('registered_at', brokerql.store.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )


def downgrade() -> None:
    op.drop_table('persisted_operation')
