"""The credit checks placeOrder runs for a financing buy or a short sale (C7), and the latest prices
they (and the margin views) value collateral at. No import of the trading services: placeOrder uses this.

Prices are the latest trade (the previous close before the first quote), read from the quote bus
before any transaction: the bus must not be awaited under a database lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func, select

from brokerql.domain.common import Rejection
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading import margin
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.margin import DebtKind, Holdings
from brokerql.domain.trading.orders import Order, OrderPurpose
from brokerql.exchange.snapshots import last_trade
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
        return last_trade(snapshot)

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


async def lendable(session: Any, symbol: str, lock: Callable[[Any], Any] = lambda q: q) -> int:
    """Shares of `symbol` left to lend; placing counts them under the pool row's lock (`lock`, the unit
    of work's), which serialises short sales of a symbol."""
    pool = await session.scalar(lock(select(LendingPoolRow).where(LendingPoolRow.symbol == symbol)))
    if pool is None:
        return 0
    lent = await session.scalar(
        select(func.coalesce(func.sum(CreditDebtRow.quantity + CreditDebtRow.pending_quantity), 0)).where(
            CreditDebtRow.kind == DebtKind.SHORT.value, CreditDebtRow.symbol == symbol
        )
    )
    return pool.total - int(lent or 0)


@dataclass(frozen=True, slots=True)
class CreditContext:
    """What the credit check of an admission needs from the database, read in the placing transaction:
    everything the account holds at the collateral prices, and what the lending pool has left."""

    holdings: Holdings
    lendable: Mapping[str, int]


class CreditOrderRules:
    """What placeOrder checks for a financing buy or a short sale, beyond the cash-account rules."""

    def __init__(self, quotes: Quotes, instruments: Mapping[str, Instrument]) -> None:
        self.prices = PriceBoard(quotes, instruments)
        self.instruments = instruments

    async def context(
        self,
        session: Any,
        account: Account,
        commands: Sequence[PlaceOrder],
        prices: Mapping[str, Decimal] | None,
        lock: Callable[[Any], Any] = lambda q: q,
    ) -> CreditContext | None:
        """None unless a command takes credit; `prices` were read before the transaction."""
        if prices is None or not any(c.purpose.takes_credit for c in commands):
            return None
        shorts = sorted({c.symbol for c in commands if c.purpose is OrderPurpose.SHORT_SELL})
        pool = {symbol: await lendable(session, symbol, lock) for symbol in shorts}
        return CreditContext(await holdings_of(session, account, prices), pool)

    def refusal(
        self, account: Account, order: Order, context: CreditContext | None, last: Decimal | None
    ) -> Rejection | None:
        """The credit rules for one order (none for ordinary orders)."""
        if order.purpose is OrderPurpose.NORMAL:
            return None
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
        if context is None:
            return Rejection("MARKET_DATA_UNAVAILABLE", "Collateral prices are unavailable; try again.", "symbol")
        kind = DebtKind.FINANCING if order.purpose is OrderPurpose.FINANCING_BUY else DebtKind.SHORT
        amount = order.price * order.quantity
        refused = margin.check_new_credit(kind, order.symbol, amount, account.terms, context.holdings, account.credit)
        if refused is None and kind is DebtKind.SHORT:
            left = context.lendable.get(order.symbol, 0)
            if order.quantity > left:
                refused = Rejection(
                    "LENDING_POOL_EMPTY" if left <= 0 else "LENDING_POOL_SHORT",
                    f"The lending pool has {max(left, 0)} shares of {order.symbol} to lend.",
                    "quantity",
                )
        return refused
