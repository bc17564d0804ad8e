"""Quotes: Level-1 fields for every entitled client, Level-2 depth and tick-by-tick trades for Level-2.

A `Quote` is built once per published snapshot and view (see subscriptions/quotes.py) and shared by
every subscriber of this process; what differs per subscriber is only the selection and the checks.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.permission import PermissionExtension

from brokerql.domain import rounding
from brokerql.domain.common import Side
from brokerql.domain.identity.tiers import QUOTES_LEVEL2
from brokerql.domain.market import boards, sessions
from brokerql.domain.market.tape import MAX_TRADES, check_depth_levels
from brokerql.schema.entitlements import Entitled
from brokerql.schema.errors import bad_input
from brokerql.schema.read_cache import NEVER_KEPT
from brokerql.schema.types.trading import OrderSide

Board = strawberry.enum(boards.Board, description="Where an instrument trades; each board has its own rules.")
TradingPhase = strawberry.enum(
    sessions.TradingPhase, description="Phase of the trading day; orders are accepted in the auctions and CONTINUOUS."
)


def _d(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _price(value: str | None, board: boards.Board) -> Decimal | None:
    """A published price at its tick's decimals (`rounding.price`)."""
    return None if value is None else rounding.price(Decimal(value), board)


@strawberry.type(description="One price level of the order book.")
class DepthLevel:
    price: Decimal = strawberry.field(description="Price of the level.")
    quantity: int = strawberry.field(description="Total resting quantity at this price.")
    orders: int = strawberry.field(description="Number of orders making up the level.")


@strawberry.type(description="Level-2 market depth, best price first on each side (5 or 10 levels).")
class Depth:
    bids: list[DepthLevel] = strawberry.field(description="Buy side, highest price first.")
    asks: list[DepthLevel] = strawberry.field(description="Sell side, lowest price first.")


@strawberry.type(description="One trade on the tape (逐笔成交).")
class Trade:
    seq: int = strawberry.field(description="The instrument's trade number: 1, 2, 3 ... (use it to drop repeats).")
    price: Decimal = strawberry.field(description="Trade price.")
    quantity: int = strawberry.field(description="Traded quantity.")
    side: OrderSide | None = strawberry.field(description="Aggressor side (BUY lifted an offer); null if unknown.")
    at: datetime = strawberry.field(description="When the trade happened.")


@strawberry.type(description="A market snapshot of one instrument (行情). Prices are Decimal strings.")
class Quote:
    symbol: str = strawberry.field(description="Instrument code, e.g. 600000.")
    name: str = strawberry.field(description="Instrument short name, e.g. 浦发银行.")
    board: Board = strawberry.field(description="The instrument's board.")  # type: ignore[valid-type]
    currency: str = strawberry.field(description="Trading currency (CNY or HKD).")
    last: Decimal | None = strawberry.field(description="Last trade price; null before the first trade.")
    open: Decimal | None = strawberry.field(description="Today's first trade price.")
    high: Decimal | None = strawberry.field(description="Today's highest trade price.")
    low: Decimal | None = strawberry.field(description="Today's lowest trade price.")
    prev_close: Decimal = strawberry.field(description="Previous trading day's close.")
    limit_up: Decimal | None = strawberry.field(description="Today's upper price limit (涨停价); null without limits.")
    limit_down: Decimal | None = strawberry.field(description="Today's lower price limit (跌停价).")
    bid: Decimal | None = strawberry.field(description="Best bid price (买一).")
    ask: Decimal | None = strawberry.field(description="Best ask price (卖一).")
    bid_size: int = strawberry.field(description="Quantity at the best bid.")
    ask_size: int = strawberry.field(description="Quantity at the best ask.")
    volume: int = strawberry.field(description="Today's traded quantity.")
    turnover: Decimal = strawberry.field(description="Today's traded value (futures: times the multiplier).")
    iopv: Decimal | None = strawberry.field(description="ETFs only: indicative NAV per share from the PCF (IOPV).")
    premium_discount: Decimal | None = strawberry.field(
        description="ETFs only: (last - iopv) / iopv as a fraction; positive is a premium, negative a discount."
    )
    phase: TradingPhase = strawberry.field(description="The board's trading phase when the snapshot was taken.")  # type: ignore[valid-type]
    trading_day: date | None = strawberry.field(description="The trading day these day statistics belong to.")
    delayed: bool = strawberry.field(description="True when this is a delayed view (e.g. 15-minute HK quotes).")
    as_of: datetime = strawberry.field(description="When the snapshot was taken (15 minutes ago when delayed).")
    _book: strawberry.Private[Any]
    _trades: strawberry.Private[Any]
    _cache: strawberry.Private[dict[Any, Any]]

    @strawberry.field(
        description="True when this quote may no longer be the market: no exchange is live (no heartbeat for "
        "BROKERQL_EXCHANGE_STALE_SECONDS) or none published market data for that long. The figures are then "
        "the last known ones, however recent asOf looks.",
        metadata=NEVER_KEPT,
    )
    def stale(self, info: strawberry.Info) -> bool:
        return bool(info.context.container.venue_watch.status().quotes_stale)

    @strawberry.field(
        description="Seconds from asOf to this answer: how old the figures are (at least 900 for a 15-minute "
        "delayed view; a snapshot is republished only when the instrument changes).",
        metadata=NEVER_KEPT,
    )
    def age_seconds(self, info: strawberry.Info) -> float:
        now = info.context.container.venue_watch.clock.now()
        return round(max(0.0, (now - self.as_of).total_seconds()), 3)

    @strawberry.field(
        description="Level-2 depth, 5 or 10 levels a side. Needs the quotes.level2 entitlement.",
        extensions=[PermissionExtension(permissions=[Entitled(QUOTES_LEVEL2)])],
    )
    def depth(
        self, levels: Annotated[int, strawberry.argument(description="Levels per side: 5 or 10.")] = 10
    ) -> Depth | None:
        if (rejection := check_depth_levels(levels)) is not None:
            raise bad_input(rejection.message, rejection.field)
        key = ("depth", levels)
        if key not in self._cache:  # built once per snapshot, shared by every subscriber
            bids, asks = self._book
            self._cache[key] = Depth(
                bids=[DepthLevel(price=_price(p, self.board), quantity=q, orders=n) for p, q, n in bids[:levels]],
                asks=[DepthLevel(price=_price(p, self.board), quantity=q, orders=n) for p, q, n in asks[:levels]],
            )
        return self._cache[key]

    @strawberry.field(
        description=f"Tick-by-tick trades (Level-2 data), newest first, up to {MAX_TRADES}. "
        "Needs the quotes.level2 entitlement.",
        extensions=[PermissionExtension(permissions=[Entitled(QUOTES_LEVEL2)])],
    )
    def trades(
        self, first: Annotated[int, strawberry.argument(description=f"How many, 0 to {MAX_TRADES}.")] = MAX_TRADES
    ) -> list[Trade] | None:
        if not 0 <= first <= MAX_TRADES:
            raise bad_input(f"first must be between 0 and {MAX_TRADES}.", "first")
        if "trades" not in self._cache:
            self._cache["trades"] = [
                Trade(seq=seq, price=_price(price, self.board), quantity=qty,
                      side=OrderSide(Side(side).value) if side else None, at=datetime.fromisoformat(at))
                for seq, price, qty, side, at in self._trades
            ]  # fmt: skip
        return self._cache["trades"][:first]

    @classmethod
    def from_snapshot(cls, s: dict[str, Any]) -> Quote:
        board = boards.Board(s["board"])
        return cls(
            symbol=s["symbol"],
            name=s["name"],
            board=board,
            currency=s["currency"],
            last=_price(s["last"], board),
            open=_price(s["open"], board),
            high=_price(s["high"], board),
            low=_price(s["low"], board),
            prev_close=rounding.price(Decimal(s["prevClose"]), board),
            limit_up=_price(s["limitUp"], board),
            limit_down=_price(s["limitDown"], board),
            bid=_price(s["bid"], board),
            ask=_price(s["ask"], board),
            bid_size=s["bidSize"],
            ask_size=s["askSize"],
            volume=s["volume"],
            turnover=rounding.money(Decimal(s["turnover"])),
            iopv=_d(s.get("iopv")),
            premium_discount=_d(s.get("premiumDiscount")),
            phase=sessions.TradingPhase(s.get("phase") or "CONTINUOUS"),
            trading_day=date.fromisoformat(s["tradingDay"]) if s.get("tradingDay") else None,
            delayed=s["delayed"],
            as_of=datetime.fromisoformat(s["asOf"]),
            _book=(s["bids"], s["asks"]),
            _trades=s.get("trades") or [],
            _cache={},
        )


__all__ = ["Board", "Depth", "DepthLevel", "Quote", "Trade", "TradingPhase"]
