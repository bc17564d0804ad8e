"""Cash and holdings of an account as the schema shows them, and the price helpers other views share."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from brokerql.domain import rounding
from brokerql.domain.common import Side
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.market.stock_connect import settlement_rate
from brokerql.domain.trading import ledger
from brokerql.exchange.snapshots import last_trade


def price_of(symbol: str, value: Decimal | None) -> Decimal | None:
    """A price of `symbol` at its board's tick decimals (`rounding.price`); the instrument set is static."""
    instrument = DEMO_INSTRUMENTS.get(symbol)
    return value if value is None or instrument is None else rounding.price(value, instrument.board)


async def last_trade_price(info: strawberry.Info, symbol: str) -> Decimal | None:
    """The latest trade price of `symbol` from the market's newest snapshot (null before the first trade)."""
    snapshot = await info.context.container.market.snapshot(symbol)
    return last_trade(snapshot)


@strawberry.type(description="Cash of an account (资金).")
class Funds:
    balance: Decimal = strawberry.field(description="Total cash: available + frozen.")
    available: Decimal = strawberry.field(description="Cash usable for new orders.")
    frozen: Decimal = strawberry.field(description="Cash held by working buy orders (and sell fee buffers).")
    withdrawable: Decimal = strawberry.field(
        description="Cash that may leave today (unsettled sale proceeds excluded: today's; for Stock Connect "
        "sales, until the second settlement, T+2)."
    )

    @classmethod
    def of(cls, funds: ledger.Funds) -> Funds:
        return cls(
            balance=rounding.money(funds.balance),
            available=rounding.money(funds.available),
            frozen=rounding.money(funds.frozen),
            withdrawable=rounding.money(funds.withdrawable),
        )


@strawberry.type(description="Holding of one instrument in one account (持仓).")
class Position:
    symbol: str = strawberry.field(description="Instrument code.")
    quantity: int = strawberry.field(description="Total shares held.")
    sellable_quantity: int = strawberry.field(
        description="Shares that may be sold now (A-shares T+1: not today's buys; HK via Stock Connect and "
        "futures T+0)."
    )
    frozen_quantity: int = strawberry.field(description="Shares held by working sell orders.")
    bought_today: int = strawberry.field(
        description="Shares bought today and not yet sellable (T+1 products), sellable from the next trading day."
    )
    cost: Decimal = strawberry.field(
        description="Total cost of the holding in CNY, buy fees included (HK shares at the reference rate)."
    )
    average_cost: Decimal | None = strawberry.field(description="Cost per share, 4 decimals (null when flat).")
    _position: strawberry.Private[ledger.Position]

    @strawberry.field(description="Latest trade price of the instrument (null before the first quote).")
    async def last_price(self, info: strawberry.Info) -> Decimal | None:
        return price_of(self.symbol, await last_trade_price(info, self.symbol))

    async def _last_cny(self, info: strawberry.Info) -> Decimal | None:
        """The last price in CNY: HK shares at the sell reference rate (what a sale would be booked at)."""
        last, instrument = await last_trade_price(info, self.symbol), DEMO_INSTRUMENTS.get(self.symbol)
        if last is None or instrument is None:
            return last
        return last * settlement_rate(instrument.board, Side.SELL)

    @strawberry.field(
        description="quantity x lastPrice in CNY (HK shares at the sell reference rate; null before the first quote)."
    )
    async def market_value(self, info: strawberry.Info) -> Decimal | None:
        last = await self._last_cny(info)
        return None if last is None else rounding.money(self._position.market_value(last))

    @strawberry.field(description="marketValue - cost: the gain if everything were sold at lastPrice, before fees.")
    async def unrealised_pnl(self, info: strawberry.Info) -> Decimal | None:
        last = await self._last_cny(info)
        return None if last is None else rounding.money(self._position.unrealised_pnl(last))

    @classmethod
    def of(cls, p: ledger.Position) -> Position:
        return cls(
            symbol=p.symbol,
            quantity=p.quantity,
            sellable_quantity=p.sellable_quantity,
            frozen_quantity=p.frozen_quantity,
            bought_today=p.bought_today,
            cost=rounding.money(p.cost),
            average_cost=p.avg_cost,
            _position=p,
        )
