"""Quote snapshots as published on the bus: built once per instrument change, for every subscriber."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.quotes import QuoteState, iopv

DEPTH_LEVELS = 10


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def build_snapshot(
    instrument: Instrument, state: QuoteState, as_of: datetime, last_prices: dict[str, Decimal]
) -> dict[str, Any]:
    """Level-1 and 10-level depth of one instrument, JSON-ready (decimals as strings)."""
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
        "bids": [[str(level.price), level.quantity, level.orders] for level in depth.bids],
        "asks": [[str(level.price), level.quantity, level.orders] for level in depth.asks],
        "iopv": None,
    }
    if instrument.pcf:
        # `last_prices` holds every instrument's last trade, or its previous close before the first one.
        nav = iopv(instrument.pcf, last_prices, instrument.cash_component, instrument.creation_unit)
        snapshot["iopv"] = str(nav)
    return snapshot


def delayed_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The same snapshot marked as delayed (its `asOf` already says how old it is)."""
    return {**snapshot, "delayed": True}
