"""Tables of the trading feature beyond the ledger core (imported at the end of brokerql.store.tables)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from brokerql.store.columns import JsonText
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


class FuturesPositionRow(SQLModel, table=True):
    """A net futures position of one account in one contract (domain/trading/futures.py FuturesPosition):
    yesterday's lots at the last settlement price, today's lots at their open cost, the margin held."""

    __tablename__ = "futures_position"
    account_id: str = Field(foreign_key="account.id", primary_key=True, max_length=40)
    symbol: str = Field(primary_key=True, max_length=16)
    direction: str = Field(max_length=5)
    yd_quantity: int = 0
    td_quantity: int = 0
    frozen_quantity: int = 0
    pending_open: int = 0
    settle_price: Decimal = money()
    td_cost: Decimal = money()
    open_cost: Decimal = money()
    margin: Decimal = money()
    updated_at: datetime = timestamp()
