"""Baskets and basket runs (C4), imported at the end of brokerql.store.tables.

A run has no status column: its status and completion are read from its legs' orders
(`orders.basket_run_id`), so they can never drift from what the orders say.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Field, SQLModel

from brokerql.store.columns import JsonText
from brokerql.store.tables import money, timestamp


class BasketRow(SQLModel, table=True):
    """A client's basket: legs as JSON [{symbol, quantity | weight}] plus the submission defaults."""

    __tablename__ = "basket"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=40)
    name: str = Field(max_length=64)
    description: str = Field(default="", max_length=500)
    legs: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonText)
    default_quantity: int | None = Field(default=None)
    default_amount: Decimal | None = money(None)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class BasketRunRow(SQLModel, table=True):
    """One submission of a basket: legs as JSON [{symbol, quantity, price}] (the targets it was sized to)."""

    __tablename__ = "basket_run"
    id: str = Field(primary_key=True, max_length=40)
    basket_id: str = Field(index=True, max_length=40)  # no foreign key: deleting a basket keeps its runs
    basket_name: str = Field(max_length=64)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=40)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=40)
    side: str = Field(max_length=4)
    legs: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonText)
    top_ups: int = 0
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
