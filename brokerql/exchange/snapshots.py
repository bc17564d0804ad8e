"""Quote snapshots as published on the bus: built once per instrument change, for every subscriber.

Everything is JSON-ready (decimals as strings, times ISO 8601) so the Redis bus serialises it once and
every API process parses it once for all its subscribers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.quotes import Bar, QuoteState, iopv, premium_discount
from brokerql.domain.market.sessions import TradingPhase
from brokerql.domain.market.tape import TradeTick

DEPTH_LEVELS = 10


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def bar_json(bar: Bar | None) -> list[Any] | None:
    """[start, open, high, low, close, volume, turnover]."""
    if bar is None:
        return None
    return [bar.start.isoformat(), str(bar.open), str(bar.high), str(bar.low), str(bar.close), bar.volume,
            str(bar.turnover)]  # fmt: skip


def bar_from_json(row: list[Any] | None) -> Bar | None:
    """Inverse of `bar_json`."""
    if row is None:
        return None
    start, o, h, low, c, volume, turnover = row
    return Bar(datetime.fromisoformat(start), Decimal(o), Decimal(h), Decimal(low), Decimal(c), volume,
               Decimal(turnover))  # fmt: skip


def trade_json(tick: TradeTick) -> list[Any]:
    """[seq, price, quantity, aggressor side or null, time]."""
    return [tick.seq, str(tick.price), tick.quantity, tick.side.value if tick.side else None, tick.at.isoformat()]


def build_snapshot(
    instrument: Instrument,
    state: QuoteState,
    as_of: datetime,
    last_prices: dict[str, Decimal],
    *,
    trades: Sequence[TradeTick] = (),
    minute_bar: Bar | None = None,
    phase: TradingPhase = TradingPhase.CONTINUOUS,
    trading_day: date | None = None,
) -> dict[str, Any]:
    """Level-1, 10-level depth, recent trades and the current minute bar of one instrument."""
    l1 = state.level1(as_of)
    depth = state.depth(DEPTH_LEVELS, as_of)
    snapshot: dict[str, Any] = {
        "symbol": instrument.symbol,
        "name": instrument.name,
        "board": instrument.board.value,
        "currency": instrument.currency.value,
        "last": _s(l1.last),
        "open": _s(l1.open),
        "high": _s(l1.high),
        "low": _s(l1.low),
        "prevClose": _s(l1.prev_close),
        "limitUp": _s(l1.limit_up),
        "limitDown": _s(l1.limit_down),
        "bid": _s(l1.bid),
        "ask": _s(l1.ask),
        "bidSize": l1.bid_size,
        "askSize": l1.ask_size,
        "volume": l1.volume,
        "turnover": str(l1.turnover),
        "asOf": as_of.isoformat(),
        "delayed": False,
        "phase": phase.value,
        "tradingDay": trading_day.isoformat() if trading_day else None,
        "bids": [[str(level.price), level.quantity, level.orders] for level in depth.bids],
        "asks": [[str(level.price), level.quantity, level.orders] for level in depth.asks],
        "trades": [trade_json(tick) for tick in trades],
        "minuteBar": bar_json(minute_bar),
        "iopv": None,
        "premiumDiscount": None,
    }
    if instrument.pcf:
        # `last_prices` holds every instrument's last trade, or its previous close before the first one.
        nav = iopv(instrument.pcf, last_prices, instrument.cash_component, instrument.creation_unit)
        snapshot["iopv"] = str(nav)
        price = l1.last if l1.last is not None else l1.prev_close
        snapshot["premiumDiscount"] = str(premium_discount(price, nav))
    return snapshot


def last_trade(snapshot: dict[str, Any] | None) -> Decimal | None:
    """A snapshot's last trade price (None without a snapshot or before the instrument's first trade)."""
    return Decimal(snapshot["last"]) if snapshot and snapshot.get("last") else None


def delayed_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The same snapshot marked as delayed (its `asOf` already says how old it is)."""
    return {**snapshot, "delayed": True}
