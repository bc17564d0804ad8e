"""Tick-by-tick trades and bars beyond the minute: the trade tape, daily bars, and what a view may see."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import Rejection, Side
from brokerql.domain.market.quotes import Bar, Level1
from brokerql.domain.market.sessions import EXCHANGE_TZ

DEPTH_LEVEL_CHOICES = (5, 10)
MAX_TRADES = 50  # recent trades kept (and published) per instrument


class BarInterval(StrEnum):
    """Length of one bar."""

    MINUTE = "MINUTE"
    DAY = "DAY"

    @property
    def length(self) -> timedelta:
        """The time one bar covers."""
        return timedelta(minutes=1) if self is BarInterval.MINUTE else timedelta(days=1)


def check_depth_levels(levels: int) -> Rejection | None:
    """Level-2 depth comes as the exchanges publish it: 5 or 10 levels a side."""
    if levels in DEPTH_LEVEL_CHOICES:
        return None
    return Rejection("BAD_DEPTH_LEVELS", f"levels must be one of {DEPTH_LEVEL_CHOICES}", "levels")


@dataclass(frozen=True, slots=True)
class TradeTick:
    """One trade on the tape (逐笔成交): `seq` counts the instrument's trades 1, 2, 3 ... since start.

    `side` is the aggressor's side (BUY = the trade lifted an offer), None when a recording lacks it.
    """

    seq: int
    price: Decimal
    quantity: int
    side: Side | None
    at: datetime


class TradeTape:
    """The newest `maxlen` trades of one instrument; older ones fall off (bounded memory)."""

    def __init__(self, maxlen: int = MAX_TRADES) -> None:
        self._ticks: deque[TradeTick] = deque(maxlen=maxlen)
        self._seq = 0

    def add(self, price: Decimal, quantity: int, side: Side | None, at: datetime) -> TradeTick:
        """Append a trade and return it with its sequence number."""
        self._seq += 1
        tick = TradeTick(self._seq, price, quantity, side, at)
        self._ticks.append(tick)
        return tick

    def recent(self, n: int | None = None) -> list[TradeTick]:
        """Up to `n` trades (all kept when None), newest first."""
        ticks = list(reversed(self._ticks))
        return ticks if n is None else ticks[:n]

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest trade (0 before the first)."""
        return self._seq

    def __len__(self) -> int:
        return len(self._ticks)


def day_start(day: date) -> datetime:
    """Midnight of a trading day on the exchange clock: the `start` of its daily bar."""
    return datetime.combine(day, time(0), EXCHANGE_TZ)


def day_bar(day: date, level1: Level1) -> Bar | None:
    """The day's OHLCV from its Level-1 statistics, None when nothing traded."""
    if level1.open is None or level1.last is None or level1.high is None or level1.low is None:
        return None
    return Bar(day_start(day), level1.open, level1.high, level1.low, level1.last, level1.volume, level1.turnover)


class DailyBars:
    """Completed trading days of one instrument, oldest first, at most `max_days` (about a year)."""

    def __init__(self, max_days: int = 250) -> None:
        self._bars: deque[Bar] = deque(maxlen=max_days)

    def close_day(self, day: date, level1: Level1) -> Bar | None:
        """Record `day` as finished with these statistics; a day without trades leaves no bar."""
        bar = day_bar(day, level1)
        if bar is not None:
            self._bars.append(bar)
        return bar

    def bars(self) -> list[Bar]:
        """Completed days, oldest first."""
        return list(self._bars)


def visible_bars(
    closed: Sequence[Bar], current: Bar | None, as_of: datetime, interval: BarInterval, first: int
) -> list[Bar]:
    """The newest `first` bars a view taken at `as_of` may see, oldest first.

    `closed` are the finished bars known now; a delayed view must not see those that finished after
    its `as_of`. `current` is the in-progress bar of that same view (it comes with the view's snapshot),
    so only closed bars older than it are added. A closed daily bar is a whole earlier trading day.
    """
    if first <= 0:
        return []
    seen = [
        bar
        for bar in closed
        if (bar.start + interval.length <= as_of if interval is BarInterval.MINUTE else bar.start <= as_of)
        and (current is None or bar.start < current.start)
    ]
    if current is not None:
        seen.append(current)
    return seen[-first:]
