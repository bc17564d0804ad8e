"""Persistence: sqlmodel tables, the async engine, the unit of work. Alembic owns the schema."""
