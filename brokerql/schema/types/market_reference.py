"""Reference data and history: instruments with today's rules, and minute/daily bars."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from brokerql.domain import rounding
from brokerql.domain.market import instruments, quotes, tape
from brokerql.schema.types.market import Board, TradingPhase
from brokerql.schema.types.paging import Connection
from brokerql.services.market import ListedInstrument

BarInterval = strawberry.enum(tape.BarInterval, description="Length of one bar.")


@strawberry.type(description="One constituent of an ETF creation unit (from its PCF, 申购赎回清单).")
class PcfLine:
    symbol: str = strawberry.field(description="Constituent instrument code.")
    quantity: int = strawberry.field(description="Shares of it in one creation unit.")
    substitution: str = strawberry.field(
        description="Cash substitution flag: FORBIDDEN (shares only), ALLOWED (cash for a shortfall at prev close "
        "x (1 + premiumRate)) or MUST_CASH (always cashAmount)."
    )
    premium_rate: Decimal = strawberry.field(description="ALLOWED lines: the premium on substituted cash (溢价比例).")
    cash_amount: Decimal = strawberry.field(description="MUST_CASH lines: the fixed substitution amount.")

    @classmethod
    def of(cls, p: instruments.PcfLine) -> PcfLine:
        return cls(
            symbol=p.symbol,
            quantity=p.quantity,
            substitution=p.substitution.value,
            premium_rate=p.premium_rate,
            cash_amount=rounding.money(p.cash_amount),
        )


@strawberry.type(description="A tradable instrument with today's rules, to validate an order before sending it.")
class Instrument:
    symbol: str = strawberry.field(description="Instrument code, e.g. 600000.")
    name: str = strawberry.field(description="Short name, e.g. 浦发银行.")
    board: Board = strawberry.field(description="The board, which sets lots, ticks, limits and sessions.")  # type: ignore[valid-type]
    currency: str = strawberry.field(description="Trading currency (CNY or HKD).")
    lot_size: int = strawberry.field(description="Board lot: buys are whole lots (STAR: at least this many).")
    buy_increment: int = strawberry.field(description="Step between valid buy quantities (STAR: 1 above 200).")
    tick_size: Decimal = strawberry.field(description="Price step at prevClose (HK: the SEHK spread table applies).")
    prev_close: Decimal = strawberry.field(description="Previous trading day's close: today's reference price.")
    limit_up: Decimal | None = strawberry.field(description="Highest price accepted today; null without limits (HK).")
    limit_down: Decimal | None = strawberry.field(description="Lowest price accepted today; null without limits.")
    is_st: bool = strawberry.field(description="Special treatment (ST) stock: narrower price limits.")
    price_cage: bool = strawberry.field(description="Continuous-trading limit orders must be within 2% of the latest.")
    t_plus: int = strawberry.field(description="Trading days before a purchase can be sold (A-shares 1, HK/futures 0).")
    multiplier: int = strawberry.field(description="Contract multiplier (index futures 300; 1 otherwise).")
    phase: TradingPhase = strawberry.field(
        description="Trading phase now; orders are accepted in auctions and CONTINUOUS."
    )  # type: ignore[valid-type]
    trading_day: date | None = strawberry.field(description="The exchange's current trading day for it, once known.")
    creation_unit: int | None = strawberry.field(description="ETFs: shares per creation/redemption unit.")
    cash_component: Decimal | None = strawberry.field(description="ETFs: cash per creation unit in the PCF.")
    pcf: list[PcfLine] = strawberry.field(description="ETFs: the portfolio composition file; empty otherwise.")

    @classmethod
    def of(cls, listed: ListedInstrument) -> Instrument:
        i, phase, trading_day = listed.instrument, listed.phase, listed.trading_day
        return cls(
            symbol=i.symbol, name=i.name, board=i.board, currency=i.currency.value, lot_size=i.lot_size,
            buy_increment=i.buy_increment, tick_size=i.tick_size, prev_close=i.prev_close, limit_up=i.limit_up,
            limit_down=i.limit_down, is_st=i.is_st, price_cage=i.rules.price_cage, t_plus=i.t_plus,
            multiplier=i.multiplier, phase=phase, trading_day=trading_day, creation_unit=i.creation_unit,
            cash_component=i.cash_component, pcf=[PcfLine.of(p) for p in i.pcf],
        )  # fmt: skip


@strawberry.type(description="A page of instruments, ordered by symbol, and how many match over all pages.")
class InstrumentConnection(Connection[Instrument]):
    total_count: int = strawberry.field(description="How many instruments match, over all pages.")


@strawberry.type(description="Open, high, low, close and volume of one minute or one day.")
class Bar:
    start: datetime = strawberry.field(description="First instant the bar covers (days: midnight, exchange time).")
    open: Decimal = strawberry.field(description="First trade price.")
    high: Decimal = strawberry.field(description="Highest trade price.")
    low: Decimal = strawberry.field(description="Lowest trade price.")
    close: Decimal = strawberry.field(description="Last trade price (so far, for the newest bar).")
    volume: int = strawberry.field(description="Traded quantity.")
    turnover: Decimal = strawberry.field(description="Traded value.")

    @classmethod
    def of(cls, bar: quotes.Bar) -> Bar:
        return cls(start=bar.start, open=bar.open, high=bar.high, low=bar.low, close=bar.close, volume=bar.volume,
                   turnover=bar.turnover)  # fmt: skip


@strawberry.type(description="The newest bars of an instrument in your view (delayed views end 15 minutes ago).")
class BarSeries:
    symbol: str = strawberry.field(description="Instrument code.")
    interval: BarInterval = strawberry.field(description="Length of each bar.")  # type: ignore[valid-type]
    delayed: bool = strawberry.field(description="True when the series is of a delayed view.")
    as_of: datetime | None = strawberry.field(description="Time of the snapshot the series ends with.")
    bars: list[Bar] = strawberry.field(
        description="Oldest first; the last one may still be forming. Periods without trades have no bar."
    )
