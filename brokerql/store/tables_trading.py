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


class CreditAccountRow(SQLModel, table=True):
    """A margin account's credit terms (domain MarginTerms), the zone its maintenance ratio was last
    seen in (a crossing is an event), and the day interest has been accrued up to (exclusive)."""

    __tablename__ = "credit_account"
    account_id: str = Field(foreign_key="account.id", primary_key=True, max_length=40)
    credit_line: Decimal = money(Decimal("1000000"))
    warning_line: Decimal = money(Decimal("1.50"))
    liquidation_line: Decimal = money(Decimal("1.30"))
    financing_rate: Decimal = money(Decimal("0.06"))
    lending_rate: Decimal = money(Decimal("0.08"))
    zone: str = Field(default="SAFE", max_length=12)
    accrued_until: str = Field(default="", max_length=10)


class CreditDebtRow(SQLModel, table=True):
    """One debt line of a margin account (domain Debt): financing of a symbol, or shares of it owed."""

    __tablename__ = "credit_debt"
    account_id: str = Field(foreign_key="account.id", primary_key=True, max_length=40)
    kind: str = Field(primary_key=True, max_length=10)
    symbol: str = Field(primary_key=True, max_length=16)
    quantity: int = 0
    principal: Decimal = money()
    interest: Decimal = money()
    held: Decimal = money()
    pending_quantity: int = 0
    pending_amount: Decimal = money()
    updated_at: datetime = timestamp()


class LendingPoolRow(SQLModel, table=True):
    """The broker's lendable inventory of a symbol (券源). What is left to lend is `total` less every
    account's shares owed and reserved by working short sales; short sales lock this row to count it."""

    __tablename__ = "lending_pool"
    symbol: str = Field(primary_key=True, max_length=16)
    total: int = 0


class EtfArbitrageRow(SQLModel, table=True):
    """One ETF arbitrage run (domain/trading/etf.py; services/products/etf_arbitrage.py moves it on): its legs'
    orders, the estimate it was sent with and, once DONE, what it realised."""

    __tablename__ = "etf_arbitrage_run"
    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=40)
    client_id: str = Field(max_length=40)
    etf: str = Field(max_length=16)
    direction: str = Field(max_length=8)
    units: int = 1
    status: str = Field(default="LEGS_WORKING", max_length=16)
    estimated_pnl: Decimal = money()
    first_orders: list[str] = Field(default_factory=list, sa_type=JsonText)
    second_orders: list[str] = Field(default_factory=list, sa_type=JsonText)
    conversion_cash: Decimal = money()
    realised_pnl: Decimal | None = money(None)
    note: str = Field(default="", max_length=255)
    created_at: datetime = timestamp()
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
    risk_acknowledged: bool = False  # the client acknowledged a product above its risk level when parking
    claim_token: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = timestamp(nullable=True)
    placed_order_id: str | None = Field(default=None, max_length=40)
    failure_code: str | None = Field(default=None, max_length=40)
    failure_reason: str | None = Field(default=None, max_length=255)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
