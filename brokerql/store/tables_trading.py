"""Tables of the trading feature beyond the ledger core (imported at the end of brokerql.store.tables)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from brokerql.store.columns import JsonText, UtcDateTime
from brokerql.store.tables import money, timestamp


class TradingPreferencesRow(SQLModel, table=True):
    """One client's order-entry preferences (D2). A client without a row has the defaults.

    The default price is a quote level (`default_price_level`) or a fixed price, never both; the default
    quantity a position ratio or a number of shares, never both. Hotkeys map canonical chords to actions.
    """

    __tablename__ = "trading_preferences"
    client_id: str = Field(foreign_key="client.id", primary_key=True, max_length=40)
    confirm_on_order: bool = True
    confirm_on_cancel: bool = True
    default_price_level: str | None = Field(default="LAST", max_length=8)
    default_price: Decimal | None = money(None)
    default_quantity_ratio: Decimal | None = money(None)
    default_quantity_shares: int | None = Field(default=100)
    hotkeys: dict[str, str] = Field(default_factory=dict, sa_type=JsonText)
    updated_at: datetime = timestamp()


class ParkedOrderRow(SQLModel, table=True):
    """A parked order (埋单, C5): an order held until its trigger fires, then placed through placeOrder.

    `status` moves along the domain's table (brokerql/domain/trading/parked.py). FIRING is the durable
    claim: the one process that moved it there (`claim_token`, at `claimed_at`) places the order; a claim
    older than the domain's timeout belongs to a dead process and may be taken over.
    """

    __tablename__ = "parked_order"
    __table_args__ = (Index("ix_parked_order_status_symbol", "status", "symbol"),)
    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", max_length=40)
    status: str = Field(max_length=16)
    trigger_kind: str = Field(max_length=16)
    trigger_price: Decimal | None = money(None)
    trigger_at: datetime | None = timestamp(nullable=True)
    valid_until: datetime = Field(sa_type=UtcDateTime, nullable=False)
    # The order to place, as placeOrder takes it.
    symbol: str = Field(max_length=16)
    side: str = Field(max_length=4)
    type: str = Field(max_length=8)
    quantity: int
    price: Decimal | None = money(None)
    price_level: str | None = Field(default=None, max_length=8)
    client_order_id: str | None = Field(default=None, max_length=64)
    time_in_force: str = Field(default="DAY", max_length=4)
    claim_token: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = timestamp(nullable=True)
    placed_order_id: str | None = Field(default=None, max_length=40)
    failure_code: str | None = Field(default=None, max_length=40)
    failure_reason: str | None = Field(default=None, max_length=255)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
