"""The credit checks placeOrder runs for a financing buy or a short sale (C7), and the latest prices
they (and the margin views) value collateral at. No import of the trading services: placeOrder uses this.

Prices are the latest trade (the previous close before the first quote), read from the quote bus
before any transaction: the bus must not be awaited under a database lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func, select

from brokerql.domain.common import Rejection
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading import margin
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.margin import DebtKind, Holdings
from brokerql.domain.trading.orders import Order, OrderPurpose
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import PositionRow
from brokerql.store.tables_trading import CreditDebtRow, LendingPoolRow

log = logging.getLogger(__name__)

# The demo's lendable inventory (券源) per symbol; 601318 has none to lend.
DEMO_LENDING_POOL = {"600000": 50_000, "600519": 500, "000001": 50_000, "000858": 2_000, "510300": 200_000}


class Quotes(Protocol):
    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None: ...


class PriceBoard:
    """Latest prices of the instruments, read from the quote bus (previous close without a quote)."""

    def __init__(self, quotes: Quotes, instruments: Mapping[str, Instrument]) -> None:
        self.quotes, self.instruments = quotes, instruments

    async def last(self, symbol: str) -> Decimal | None:
        try:
            snapshot = await self.quotes.snapshot(symbol)
        except Exception:  # the bus is down: no price, the caller falls back or refuses
            log.warning("no quote for %s", symbol, exc_info=True)
            return None
        return Decimal(snapshot["last"]) if snapshot and snapshot.get("last") else None

    async def all(self) -> dict[str, Decimal]:
        symbols = list(self.instruments)
        lasts = await asyncio.gather(*(self.last(s) for s in symbols))
        pairs = zip(symbols, lasts, strict=True)
        return {s: last if last is not None else self.instruments[s].prev_close for s, last in pairs}


async def holdings_of(session: Any, account: Account, prices: Mapping[str, Decimal]) -> Holdings:
    """Everything the account holds (all positions, not only those a change loaded), at `prices`."""
    rows = (await session.scalars(select(PositionRow).where(PositionRow.account_id == account.id))).all()
    positions = {r.symbol: r.quantity for r in rows}
    positions.update({s: p.quantity for s, p in account.positions.items()})
    return Holdings(account.funds.balance, {s: q for s, q in positions.items() if q}, prices)


async def lendable(uow: UnitOfWork, symbol: str) -> int:
    """Shares of `symbol` left to lend, counted under the pool row's lock (serialises short sales)."""
    pool = await uow.session.scalar(uow.lock(select(LendingPoolRow).where(LendingPoolRow.symbol == symbol)))
    if pool is None:
        return 0
    lent = await uow.session.scalar(
        select(func.coalesce(func.sum(CreditDebtRow.quantity + CreditDebtRow.pending_quantity), 0)).where(
            CreditDebtRow.kind == DebtKind.SHORT.value, CreditDebtRow.symbol == symbol
        )
    )
    return pool.total - int(lent or 0)


class CreditOrderRules:
    """What placeOrder checks for a financing buy or a short sale, beyond the cash-account rules."""

    def __init__(self, quotes: Quotes, instruments: Mapping[str, Instrument]) -> None:
        self.prices = PriceBoard(quotes, instruments)
        self.instruments = instruments

    async def refusal(
        self, uow: UnitOfWork, account: Account, order: Order, prices: Mapping[str, Decimal], last: Decimal | None
    ) -> Rejection | None:
        if account.type is not AccountType.MARGIN:
            return Rejection("MARGIN_ACCOUNT_ONLY", f"{order.purpose.value} orders need a margin account.", "accountId")
        if not order.purpose.takes_credit:
            return None
        if order.purpose is OrderPurpose.SHORT_SELL:
            refused = margin.check_short_price(order.price, last, self.instruments[order.symbol].prev_close)
            if refused is not None:
                return refused
        if order.price is None:
            return Rejection("CREDIT_LIMIT_ONLY", "Financing buys and short sales are limit orders.", "type")
        kind = DebtKind.FINANCING if order.purpose is OrderPurpose.FINANCING_BUY else DebtKind.SHORT
        amount = order.price * order.quantity
        holdings = await holdings_of(uow.session, account, prices)
        refused = margin.check_new_credit(kind, order.symbol, amount, account.terms, holdings, account.credit)
        if refused is None and kind is DebtKind.SHORT:
            left = await lendable(uow, order.symbol)
            if order.quantity > left:
                refused = Rejection(
                    "LENDING_POOL_EMPTY" if left <= 0 else "LENDING_POOL_SHORT",
                    f"The lending pool has {max(left, 0)} shares of {order.symbol} to lend.",
                    "quantity",
                )
        return refused
