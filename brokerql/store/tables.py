"""The tables. Alembic migrations are generated from, and checked against, these definitions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from brokerql.store.columns import JsonText, Money, RecordJson, UtcDateTime, utcnow


def money(default: Decimal | None = Decimal(0)) -> Any:
    return Field(default=default, sa_type=Money, nullable=default is None)


def timestamp(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UtcDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


class ClientRow(SQLModel, table=True):
    """A client (客户) who logs in, reads research and trades."""

    __tablename__ = "client"
    id: str = Field(primary_key=True, max_length=40)
    username: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=128)
    password_hash: str = Field(max_length=255)
    tier_code: str = Field(max_length=16, index=True)
    status: str = Field(default="ACTIVE", max_length=16)
    created_at: datetime = timestamp()


class OperatorRow(SQLModel, table=True):
    """A member of staff (操作员) with back-office roles."""

    __tablename__ = "operator"
    id: str = Field(primary_key=True, max_length=40)
    username: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=128)
    password_hash: str = Field(max_length=255)
    roles: list[str] = Field(default_factory=list, sa_type=JsonText)
    created_at: datetime = timestamp()


class AccountRow(SQLModel, table=True):
    """A trading account: its funds, and the last sequence number of its event stream."""

    __tablename__ = "account"
    id: str = Field(primary_key=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", index=True, max_length=40)
    type: str = Field(max_length=16)
    currency: str = Field(default="CNY", max_length=3)
    balance: Decimal = money()
    available: Decimal = money()
    frozen: Decimal = money()
    # Today's sell proceeds: usable for buying at once, withdrawable after the daily settlement.
    unsettled: Decimal = money()
    # Cash held as margin by open futures positions (FUTURES accounts): balance = available + frozen + margin.
    margin: Decimal = money()
    unsettled_later: Decimal = money()  # proceeds settling one day after `unsettled` (Stock Connect T+2)
    realized_pnl: Decimal = money()
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    trading_day: str = Field(default="", max_length=10)
    fee_schedule: dict[str, str] = Field(default_factory=dict, sa_type=JsonText)
    created_at: datetime = timestamp()


class PositionRow(SQLModel, table=True):
    """Holdings of one symbol in one account; `bought_today` is not sellable before the next day (T+1)."""

    __tablename__ = "position"
    account_id: str = Field(foreign_key="account.id", primary_key=True, max_length=40)
    symbol: str = Field(primary_key=True, max_length=16)
    quantity: int = 0
    sellable_quantity: int = 0
    frozen_quantity: int = 0
    bought_today: int = 0
    cost: Decimal = money()
    updated_at: datetime = timestamp()


class OrderRow(SQLModel, table=True):
    """An order (委托) and its running execution totals."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id", name="uq_orders_account_client_order_id"),
        Index("ix_orders_account_status", "account_id", "status"),
    )
    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=40)
    client_order_id: str | None = Field(default=None, max_length=64)
    symbol: str = Field(max_length=16, index=True)
    side: str = Field(max_length=4)
    type: str = Field(max_length=8)
    time_in_force: str = Field(default="DAY", max_length=4)
    price: Decimal | None = money(None)
    quantity: int
    status: str = Field(max_length=16)
    cum_qty: int = 0
    leaves_qty: int = 0
    notional: Decimal = money()
    fees_paid: Decimal = money()
    frozen_cash: Decimal = money()
    frozen_quantity: int = 0
    reject_code: str | None = Field(default=None, max_length=40)
    reject_reason: str | None = Field(default=None, max_length=255)
    # margin accounts: FINANCING_BUY, SHORT_SELL, SELL_TO_REPAY, BUY_TO_RETURN (domain OrderPurpose)
    purpose: str = Field(default="NORMAL", max_length=16)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    basket_run_id: str | None = Field(default=None, max_length=40, index=True)  # a basket run's leg (C4)
    pair_id: str | None = Field(default=None, max_length=40)  # one side of a paired buy/sell


class FillRow(SQLModel, table=True):
    """One execution (成交) of an order. `exec_id` makes booking idempotent."""

    __tablename__ = "fill"
    id: str = Field(primary_key=True, max_length=40)
    exec_id: str = Field(unique=True, max_length=64)
    order_id: str = Field(foreign_key="orders.id", index=True, max_length=40)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=40)
    symbol: str = Field(max_length=16)
    side: str = Field(max_length=4)
    price: Decimal = money()
    quantity: int
    commission: Decimal = money()
    stamp_duty: Decimal = money()
    transfer_fee: Decimal = money()
    created_at: datetime = timestamp()


class AccountEventRow(SQLModel, table=True):
    """The per-account event log: gapless `seq` assigned in the transaction that made the change."""

    __tablename__ = "account_event"
    account_id: str = Field(foreign_key="account.id", primary_key=True, max_length=40)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=24)
    order_id: str | None = Field(default=None, max_length=40)
    fill_id: str | None = Field(default=None, max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=RecordJson)
    created_at: datetime = timestamp()


class OutboxRow(SQLModel, table=True):
    """Messages written in the same transaction as the change they announce.

    The relay publishes them in id order and deletes them; the durable history is `account_event`.
    """

    __tablename__ = "outbox"
    # SQLite only autoincrements an INTEGER PRIMARY KEY, PostgreSQL wants BIGINT for a busy outbox.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    topic: str = Field(max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=RecordJson)
    created_at: datetime = timestamp()


class RefreshTokenRow(SQLModel, table=True):
    """A rotating refresh token, stored only as a hash; reuse of a spent one revokes its family."""

    __tablename__ = "refresh_token"
    id: str = Field(primary_key=True, max_length=40)
    token_hash: str = Field(unique=True, max_length=64)
    family_id: str = Field(index=True, max_length=40)
    subject_id: str = Field(index=True, max_length=40)
    subject_kind: str = Field(default="client", max_length=16)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()


ALL_TABLES = SQLModel.metadata
from brokerql.store import tables_identity  # noqa: E402, F401, I001 - identity, back-office and grading tables
from brokerql.store import tables_trading  # noqa: E402, F401 - trading preferences
from brokerql.store import tables_persisted  # noqa: E402, F401 - registered client operations
from brokerql.store import tables_exchange  # noqa: E402, F401 - the venue journal and lease fence
from brokerql.store import tables_operations  # noqa: E402, F401 - halts, alert rules, alerts
from brokerql.store import tables_research  # noqa: E402, F401 - articles (information platform)
from brokerql.store import tables_baskets  # noqa: E402, F401 - baskets and basket runs (C4)
