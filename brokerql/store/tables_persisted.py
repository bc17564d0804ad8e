"""Registered GraphQL operations of client builds (`brokerql persist-operations`), keyed by sha256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from brokerql.store.columns import UtcDateTime, utcnow


class PersistedOperationRow(SQLModel, table=True):
    """One registered document: clients send its sha256 instead of the text (persisted queries)."""

    __tablename__ = "persisted_operation"
    sha256: str = Field(primary_key=True, max_length=64)
    document: str = Field(sa_type=Text)
    operation_name: str | None = Field(default=None, max_length=200)
    client_name: str = Field(default="", max_length=100)
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)
