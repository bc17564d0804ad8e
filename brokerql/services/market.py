"""Reading market data: snapshots, bars and reference data as the exchange last published them.

Everything comes from the bus's retained messages, so any API process can answer without the books
(in the scaled deployment the exchange is another process). The instruments' day (prev_close, hence
the price limits) follows the exchange's `market.reference` message: the dict is shared with the
trading service, which then validates orders against the same limits the exchange uses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from brokerql.bus import Bus, Resync, read_set
from brokerql.domain.clock import Clock
from brokerql.domain.market.boards import Board
from brokerql.domain.market.instruments import Instrument, roll_day
from brokerql.domain.market.quotes import Bar
from brokerql.domain.market.sessions import TradingPhase, phase_at
from brokerql.domain.market.tape import BarInterval, day_start, visible_bars
from brokerql.exchange.engine import REFERENCE_TOPIC, bars_topic, quote_topic
from brokerql.exchange.snapshots import bar_from_json
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)

MAX_BARS = 600


@dataclass(frozen=True, slots=True)
class ListedInstrument:
    """An instrument with where its board is in the trading day now, and its current trading day."""

    instrument: Instrument
    phase: TradingPhase
    trading_day: date | None


class MarketData:
    """Snapshots, bars and the instruments' current day, read from the bus."""

    def __init__(self, bus: Bus, instruments: dict[str, Instrument], clock: Clock, *, always_open: bool = True) -> None:
        self.bus = bus
        self.instruments = instruments
        self.clock = clock
        self.always_open = always_open
        self.trading_days: dict[str, date] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # Quote snapshots as published, when the bus keeps them in another process (Redis): a quote
        # read is then no GET, and answers kept per snapshot (schema/read_cache.py) work there too. A
        # snapshot reaches it by pub/sub, before the retained copy is written.
        self._mirror: dict[str, dict[str, Any]] | None = None if bus.holds_retained else {}

    async def snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None:
        """The latest snapshot as the bus retains it: what orders are priced and checked against, so a
        bus that cannot be reached refuses them (MARKET_DATA_UNAVAILABLE) rather than use a copy."""
        return await self.bus.latest(quote_topic(symbol, delayed=delayed))

    async def shown_snapshot(self, symbol: str, *, delayed: bool = False) -> dict[str, Any] | None:
        """The latest snapshot for display (the `quote` query): this process's copy when it holds one,
        without I/O, else as the bus retains it; noted in the operation's read set, which an answer kept
        per snapshot is checked against (schema/read_cache.py). A copy outlives a lost Redis link by
        the moments until the link's loss is noticed; `Quote.stale` tells a reader when market data stops."""
        topic = quote_topic(symbol, delayed=delayed)
        message = self.peek(topic)
        if message is None:  # nothing mirrored yet (or the link was lost): a round trip
            message = await self.bus.latest(topic)
        read_set.note(topic, message)
        return message

    def peek(self, topic: str) -> dict[str, Any] | None:
        """The latest snapshot of a quote topic held in this process, without I/O: the in-process bus's
        retained message, or this process's mirror of Redis (None until one arrived)."""
        return self.bus.peek(topic) if self._mirror is None else self._mirror.get(topic)

    def topic(self, symbol: str, *, delayed: bool = False) -> str:
        return quote_topic(symbol, delayed=delayed)

    def phase(self, instrument: Instrument, now: datetime) -> TradingPhase:
        """Where the instrument's board is in its trading day (always CONTINUOUS in demo mode)."""
        return phase_at(instrument.board, now, always_open=self.always_open)

    def listing(
        self, board: Board | None, symbols: Collection[str] | None, *, after_symbol: str | None, limit: int
    ) -> tuple[list[ListedInstrument], int]:
        """Up to `limit` instruments after `after_symbol` by symbol, of `board` and `symbols` when given,
        and how many match over all pages."""
        matching = sorted(
            (
                i
                for i in self.instruments.values()
                if (board is None or i.board == board) and (symbols is None or i.symbol in symbols)
            ),
            key=lambda i: i.symbol,
        )
        now = self.clock.now()
        rest = [i for i in matching if after_symbol is None or i.symbol > after_symbol][:limit]
        listed = [ListedInstrument(i, self.phase(i, now), self.trading_days.get(i.symbol)) for i in rest]
        return listed, len(matching)

    async def bars(self, symbol: str, interval: BarInterval, first: int, *, delayed: bool) -> tuple[list[Bar], Any]:
        """The newest `first` bars of the view and the snapshot they end with (None before any quote)."""
        snapshot = await self.snapshot(symbol, delayed=delayed)
        if snapshot is None:
            return [], None
        published = await self.bus.latest(bars_topic(symbol, interval.value)) or {"bars": []}
        closed = [bar for row in published["bars"] if (bar := bar_from_json(row)) is not None]
        if interval is BarInterval.MINUTE:
            current = bar_from_json(snapshot.get("minuteBar"))
        else:
            current = _today(snapshot)
        as_of = datetime.fromisoformat(snapshot["asOf"])
        return visible_bars(closed, current, as_of, interval, min(first, MAX_BARS)), snapshot

    # -- the instruments' day -----------------------------------------------------------------------

    def apply_reference(self, message: dict[str, Any]) -> None:
        """Roll local instruments to the exchange's prev_close (same dict object, updated in place)."""
        for symbol, ref in (message.get("instruments") or {}).items():
            instrument = self.instruments.get(symbol)
            if instrument is None:
                continue
            close = Decimal(ref["prevClose"])
            if close != instrument.prev_close:
                self.instruments[symbol] = roll_day(instrument, close)
            if ref.get("tradingDay"):
                self.trading_days[symbol] = date.fromisoformat(ref["tradingDay"])

    async def start(self) -> None:
        subscription = await self.bus.subscribe([REFERENCE_TOPIC], conflate=True)
        latest = await self.bus.latest(REFERENCE_TOPIC)
        if latest is not None:
            self.apply_reference(latest)
        self._tasks.append(asyncio.create_task(self._follow(subscription), name="market-reference"))
        if self._mirror is not None:
            topics = [quote_topic(s, delayed=d) for s in self.instruments for d in (False, True)]
            quotes = await self.bus.subscribe(topics, conflate=True)
            self._tasks.append(asyncio.create_task(self._mirror_quotes(quotes), name="market-quote-mirror"))

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        self._tasks.clear()

    async def _mirror_quotes(self, subscription: Any) -> None:
        assert self._mirror is not None
        async with subscription:
            while True:
                try:
                    topic, message = await subscription.get()
                except Resync:  # messages may have been missed: read through until new ones arrive
                    self._mirror.clear()
                    continue
                self._mirror[topic] = message

    async def _follow(self, subscription: Any) -> None:
        async with subscription:
            while True:
                try:
                    _topic, message = await subscription.get()
                except Resync:  # the link was lost: the retained copy is the latest
                    message = await self.bus.latest(REFERENCE_TOPIC) or {}
                try:
                    self.apply_reference(message)
                except (KeyError, TypeError, ValueError, ArithmeticError):
                    log.exception("ignoring a malformed market.reference message")


def _today(snapshot: dict[str, Any]) -> Bar | None:
    """Today's bar so far, from a snapshot's day statistics."""
    if snapshot.get("open") is None or snapshot.get("tradingDay") is None:
        return None
    return Bar(
        day_start(date.fromisoformat(snapshot["tradingDay"])), Decimal(snapshot["open"]), Decimal(snapshot["high"]),
        Decimal(snapshot["low"]), Decimal(snapshot["last"]), snapshot["volume"], Decimal(snapshot["turnover"]),
    )  # fmt: skip
