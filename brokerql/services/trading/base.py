"""What every trading use case shares: the service's dependencies and opening an account for a change."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select

from brokerql.bus import Bus
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.sessions import trading_day
from brokerql.domain.operations.halts import Halts
from brokerql.domain.trading.account import Account
from brokerql.domain.trading.messages import AccountEventKind
from brokerql.domain.trading.orders import Order
from brokerql.store.accounts import append_event, load_account, order_from_row, save_account
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import AccountRow, OrderRow

log = logging.getLogger("brokerql.services.trading")


class TradingBase:
    """The database, the instruments, and (optionally) the bus the service waits on for cancel answers."""

    def __init__(
        self,
        db: Database,
        instruments: dict[str, Instrument],
        *,
        market_always_open: bool,
        bus: Bus | None = None,
        cancel_wait_seconds: float = 2.0,
    ) -> None:
        self.db = db
        self.instruments = instruments
        self.always_open = market_always_open
        self.bus = bus
        self.cancel_wait_seconds = cancel_wait_seconds
        self.halts: Callable[[], Halts] = Halts  # trading halts in force (E3); the monitor keeps them fresh

    async def open_account(
        self,
        uow: UnitOfWork,
        account_id: str | ColumnElement[Any],
        now: datetime,
        symbols: Iterable[str] | None = None,
    ) -> tuple[AccountRow, Account] | None:
        """Load and lock an account (with the positions of `symbols`, default all), running the daily
        settlement first if a new trading day began."""
        today = trading_day(now).isoformat()
        loaded = await load_account(uow, account_id, symbols, today=today)
        if loaded is None:
            return None
        row, account = loaded
        if row.trading_day != today:
            if row.trading_day:  # a brand-new account has nothing to settle
                account.roll_day()
                await save_account(uow, row, account, now)
                await append_event(uow, row, AccountEventKind.DAY_SETTLED, now=now, trading_day=today)
            row.trading_day = today
        return row, account

    async def _order_and_account(
        self, uow: UnitOfWork, order_id: str, now: datetime
    ) -> tuple[OrderRow, Order, AccountRow, Account] | None:
        """Lock the order's account first, then read the order under that lock (two statements)."""
        owner = select(OrderRow.account_id).where(OrderRow.id == order_id).scalar_subquery()
        symbol = select(OrderRow.symbol).where(OrderRow.id == order_id).scalar_subquery()
        opened = await self.open_account(uow, owner, now, [symbol])  # type: ignore[list-item]
        order_row = await uow.session.get(OrderRow, order_id) if opened is not None else None
        if opened is None or order_row is None:
            log.error("exchange reported on unknown order %s", order_id)
            return None
        return order_row, order_from_row(order_row), opened[0], opened[1]
