"""Quotes: Level-1 fields for every client, Level-2 depth for those entitled to it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension

from brokerql.domain.identity.tiers import QUOTES_LEVEL2
from brokerql.schema.entitlements import Entitled


def _d(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@strawberry.type(description="One price level of the order book.")
class DepthLevel:
    price: Decimal = strawberry.field(description="Price of the level.")
    quantity: int = strawberry.field(description="Total resting quantity at this price.")
    orders: int = strawberry.field(description="Number of orders making up the level.")


@strawberry.type(description="Level-2 market depth, best price first on each side (up to 10 levels).")
class Depth:
    bids: list[DepthLevel] = strawberry.field(description="Buy side, highest price first.")
    asks: list[DepthLevel] = strawberry.field(description="Sell side, lowest price first.")


@strawberry.type(description="A market snapshot of one instrument (行情). Prices are Decimal strings.")
class Quote:
    symbol: str = strawberry.field(description="Instrument code, e.g. 600000.")
    name: str = strawberry.field(description="Instrument short name, e.g. 浦发银行.")
    board: str = strawberry.field(description="Board: SSE_MAIN, SZSE_MAIN, CHINEXT, STAR, ETF, HK, CFFEX_INDEX_FUTURE.")
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
    turnover: Decimal = strawberry.field(description="Today's traded value.")
    iopv: Decimal | None = strawberry.field(description="ETFs only: indicative NAV per share from the PCF.")
    delayed: bool = strawberry.field(description="True when this is a delayed view (e.g. 15-minute HK quotes).")
    as_of: datetime = strawberry.field(description="When the snapshot was taken.")
    _depth: strawberry.Private[Any]

    @strawberry.field(
        description="Level-2 depth (10 levels). Needs the quotes.level2 entitlement.",
        extensions=[PermissionExtension(permissions=[Entitled(QUOTES_LEVEL2)])],
    )
    def depth(self) -> Depth:
        bids, asks = self._depth
        return Depth(
            bids=[DepthLevel(price=Decimal(p), quantity=q, orders=n) for p, q, n in bids],
            asks=[DepthLevel(price=Decimal(p), quantity=q, orders=n) for p, q, n in asks],
        )

    @classmethod
    def from_snapshot(cls, s: dict[str, Any]) -> Quote:
        return cls(
            symbol=s["symbol"],
            name=s["name"],
            board=s["board"],
            currency=s["currency"],
            last=_d(s["last"]),
            open=_d(s["open"]),
            high=_d(s["high"]),
            low=_d(s["low"]),
            prev_close=Decimal(s["prevClose"]),
            limit_up=_d(s["limitUp"]),
            limit_down=_d(s["limitDown"]),
            bid=_d(s["bid"]),
            ask=_d(s["ask"]),
            bid_size=s["bidSize"],
            ask_size=s["askSize"],
            volume=s["volume"],
            turnover=Decimal(s["turnover"]),
            iopv=_d(s.get("iopv")),
            delayed=s["delayed"],
            as_of=datetime.fromisoformat(s["asOf"]),
            _depth=(s["bids"], s["asks"]),
        )
