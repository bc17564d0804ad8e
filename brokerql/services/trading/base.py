"""What every trading use case shares: the service's dependencies and opening an account for a change."""

from __future__ import annotations

import logging
from datetime import datetime

from brokerql.bus import Bus
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.sessions import trading_day
from brokerql.domain.trading.account import Account
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

    async def open_account(self, uow: UnitOfWork, account_id: str, now: datetime) -> tuple[AccountRow, Account] | None:
        """Load and lock an account, running the daily settlement first if a new trading day began."""
        loaded = await load_account(uow, account_id)
        if loaded is None:
            return None
        row, account = loaded
        today = trading_day(now).isoformat()
        if row.trading_day != today:
            if row.trading_day:  # a brand-new account has nothing to settle
                account.roll_day()
                await save_account(uow, row, account, now)
                await append_event(uow, row, "DAY_SETTLED", now=now, extra={"tradingDay": today})
            row.trading_day = today
        return row, account

    async def _order_and_account(
        self, uow: UnitOfWork, order_id: str, now: datetime
    ) -> tuple[OrderRow, Order, AccountRow, Account] | None:
        order_row = await uow.session.get(OrderRow, order_id)
        if order_row is None:
            log.error("exchange reported on unknown order %s", order_id)
            return None
        opened = await self.open_account(uow, order_row.account_id, now)
        assert opened is not None
        await uow.session.refresh(order_row)  # read again under the account lock
        return order_row, order_from_row(order_row), opened[0], opened[1]
