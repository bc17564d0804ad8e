"""Quotes derived from a book and its trades: Level-1/Level-2 snapshots, minute bars, ETF IOPV, delay."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Generic, TypeVar

from brokerql.domain.market.book import OrderBook
from brokerql.domain.market.instruments import Instrument, PcfLine
from brokerql.domain.market.orders import DepthLevel, Execution


@dataclass(frozen=True, slots=True)
class Level1:
    """Top-of-book snapshot with the day's statistics; `turnover` includes any contract multiplier."""

    symbol: str
    last: Decimal | None
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    prev_close: Decimal
    limit_up: Decimal | None
    limit_down: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    bid_size: int
    ask_size: int
    volume: int
    turnover: Decimal
    as_of: datetime

    @property
    def change(self) -> Decimal | None:
        """Last minus previous close, None before the first trade."""
        return None if self.last is None else self.last - self.prev_close


@dataclass(frozen=True, slots=True)
class Level2:
    """Depth snapshot: best-first (price, quantity, order_count) levels of each side."""

    symbol: str
    bids: tuple[DepthLevel, ...]
    asks: tuple[DepthLevel, ...]
    as_of: datetime


class QuoteState:
    """The day's quote statistics of one instrument, fed with its book's executions.

    Executions are deduplicated by their sequence number, so replaying a batch is harmless.
    """

    def __init__(self, instrument: Instrument, book: OrderBook) -> None:
        self.instrument = instrument
        self.book = book
        self.last: Decimal | None = None
        self.open: Decimal | None = None
        self.high: Decimal | None = None
        self.low: Decimal | None = None
        self.volume = 0
        self.turnover = Decimal(0)
        self.last_seq = 0
        self.as_of: datetime | None = None

    def apply(self, executions: Iterable[Execution]) -> None:
        """Fold trades into last/open/high/low/volume/turnover, skipping ones already seen."""
        for execution in executions:
            if execution.seq <= self.last_seq:
                continue
            self.last_seq = execution.seq
            self.record_trade(execution.price, execution.quantity)

    def record_trade(self, price: Decimal, quantity: int) -> None:
        """Fold one trade that did not come from the book (a replayed recording) into the statistics."""
        self.last = price
        self.open = self.open if self.open is not None else price
        self.high = price if self.high is None or price > self.high else self.high
        self.low = price if self.low is None or price < self.low else self.low
        self.volume += quantity
        self.turnover += price * quantity * self.instrument.multiplier

    def update(self, executions: Iterable[Execution], as_of: datetime) -> Level1:
        """Apply `executions`, then snapshot the book at `as_of`."""
        self.apply(executions)
        return self.level1(as_of)

    def level1(self, as_of: datetime | None = None) -> Level1:
        """Level-1 snapshot now (as of the last update when `as_of` is not given)."""
        as_of = self._stamp(as_of)
        depth = self.book.depth(1)
        bid, ask = (depth.bids or (None,))[0], (depth.asks or (None,))[0]
        inst = self.instrument
        return Level1(
            inst.symbol, self.last, self.open, self.high, self.low, inst.prev_close, inst.limit_up,
            inst.limit_down, bid.price if bid else None, ask.price if ask else None,
            bid.quantity if bid else 0, ask.quantity if ask else 0, self.volume, self.turnover, as_of,
        )  # fmt: skip

    def depth(self, n: int = 10, as_of: datetime | None = None) -> Level2:
        """Level-2 snapshot of the best `n` levels each side."""
        depth = self.book.depth(n)
        return Level2(self.instrument.symbol, depth.bids, depth.asks, self._stamp(as_of))

    def _stamp(self, as_of: datetime | None) -> datetime:
        if as_of is not None:
            self.as_of = as_of
        if self.as_of is None:
            raise ValueError("no snapshot time yet: pass as_of")
        return self.as_of


@dataclass(frozen=True, slots=True)
class Bar:
    """OHLCV of one minute, `start` being the minute's first instant."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    turnover: Decimal


class MinuteBars:
    """Aggregates trades into one-minute bars, keeping the newest `max_bars` (a trading day is 241+)."""

    def __init__(self, symbol: str, *, multiplier: int = 1, max_bars: int = 600) -> None:
        self.symbol = symbol
        self.multiplier = multiplier
        self._bars: deque[Bar] = deque(maxlen=max_bars)

    def add(self, execution: Execution, at: datetime) -> Bar:
        """Fold one trade made at `at` in; a late trade goes into the newest bar, history is not rewritten."""
        start = at.replace(second=0, microsecond=0)
        price, qty = execution.price, execution.quantity
        value = price * qty * self.multiplier
        if self._bars and start <= self._bars[-1].start:
            b = self._bars[-1]
            bar = Bar(
                b.start,
                b.open,
                max(b.high, price),
                min(b.low, price),
                price,
                b.volume + qty,
                b.turnover + value,
            )
            self._bars[-1] = bar
        else:
            bar = Bar(start, price, price, price, price, qty, value)
            self._bars.append(bar)
        return bar

    def extend(self, executions: Iterable[Execution], at: datetime) -> None:
        """Fold several trades made at the same moment."""
        for execution in executions:
            self.add(execution, at)

    def bars(self) -> list[Bar]:
        """Bars oldest first (minutes without trades have no bar)."""
        return list(self._bars)

    @property
    def current(self) -> Bar | None:
        """The newest bar."""
        return self._bars[-1] if self._bars else None


IOPV_TICK = Decimal("0.001")
T = TypeVar("T")


def iopv(
    pcf: Iterable[PcfLine], last_prices: Mapping[str, Decimal], cash_component: Decimal, creation_unit: int
) -> Decimal:
    """Indicative NAV per ETF share: (basket value + cash component) / creation unit, to 0.001.

    Every constituent needs a price in `last_prices` (fall back to prev_close before the first trade);
    a missing one raises KeyError rather than silently undervaluing the basket.
    """
    basket = sum((last_prices[line.symbol] * line.quantity for line in pcf), Decimal(0))
    return ((basket + cash_component) / creation_unit).quantize(IOPV_TICK, rounding=ROUND_HALF_UP)


def premium_discount(price: Decimal, nav: Decimal) -> Decimal:
    """ETF premium (positive) or discount (negative) of `price` over `nav`, as a fraction to 1e-6."""
    return ((price - nav) / nav).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


class DelayBuffer(Generic[T]):
    """Keeps timestamped snapshots and serves the newest one at least `delay` old (delayed quotes).

    Memory stays bounded at about delay/resolution entries: within one `resolution` bucket only the
    newest snapshot is kept (with its true time, so nothing fresher than `delay` ever leaks), and
    snapshots superseded by an older-than-delay successor are dropped. Push times must not go back.
    """

    def __init__(self, delay: timedelta, resolution: timedelta = timedelta(seconds=1)) -> None:
        self.delay = delay
        self.resolution = resolution
        self._entries: deque[tuple[datetime, T]] = deque()
        self._origin: datetime | None = None

    def push(self, at: datetime, snapshot: T) -> None:
        """Record `snapshot` taken at `at`."""
        if self._origin is None:
            self._origin = at
        entries = self._entries
        if entries and (entries[-1][0] - self._origin) // self.resolution == (at - self._origin) // self.resolution:
            entries[-1] = (at, snapshot)
        else:
            entries.append((at, snapshot))
        cutoff = at - self.delay
        while len(entries) >= 2 and entries[1][0] <= cutoff:
            entries.popleft()

    def get(self, now: datetime) -> T | None:
        """Newest snapshot taken at or before `now - delay`, None if there is none yet."""
        cutoff = now - self.delay
        found: T | None = None
        for at, snapshot in self._entries:  # eligible entries are all at the old end
            if at > cutoff:
                break
            found = snapshot
        return found

    def __len__(self) -> int:
        return len(self._entries)
