"""Reading quotes: the latest snapshot of an instrument in the view a client is entitled to."""

from __future__ import annotations

from typing import Any

from brokerql.bus import Bus
from brokerql.domain.market.instruments import Instrument
from brokerql.exchange.engine import quote_topic


class MarketData:
    """Snapshots come from the bus's retained messages, so any API process can answer without the books."""

    def __init__(self, bus: Bus, instruments: dict[str, Instrument]) -> None:
        self.bus = bus
        self.instruments = instruments

    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None:
        return await self.bus.latest(quote_topic(symbol, delayed=delayed))

    def topic(self, symbol: str, *, delayed: bool = False) -> str:
        return quote_topic(symbol, delayed=delayed)
