"""Replaying recorded trades from a CSV file at a chosen speed: real data in, besides the simulator.

The file needs a header; columns beyond these are ignored, so exports from most tools fit:

    time,symbol,price,quantity,side,prev_close
    09:30:00.120,600000,13.55,1200,B,
    2026-05-11T09:30:01,510300,4.652,30000,S,

- `time`: an ISO date-time or a time of day. Only the gaps between rows matter: row n is played
  (time_n - time_0) / speed seconds after the replay starts. Rows must be in chronological order.
- `side`: the aggressor, B/BUY or S/SELL, empty when unknown.
- `prev_close` (optional): on a symbol's first row, re-bases that instrument's day on it, so recordings
  of real prices far from the demo's previous close stay within the daily price limits.

A replayed symbol's last/volume/turnover/bars/trades follow the recording; the simulator keeps its book
liquid around the recorded price (it no longer walks or trades it), so client orders still fill there.
Unknown symbols are skipped; a trade outside the day's limits is skipped and counted.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol

from brokerql.domain.common import Side
from brokerql.domain.market.instruments import Instrument


class _Desk(Protocol):
    def rebase(self, symbol: str, prev_close: Decimal) -> None: ...


class ReplayTarget(Protocol):
    """What a replay feeds (the exchange engine; a protocol so that this module does not import it)."""

    @property
    def instruments(self) -> Mapping[str, Instrument]: ...

    @property
    def desk(self) -> _Desk: ...

    def play(self, symbol: str, price: Decimal, quantity: int, side: Side | None) -> None: ...


log = logging.getLogger(__name__)

SAMPLE_CSV = Path(__file__).parent / "data" / "sample_ticks.csv"
_SIDES = {"B": Side.BUY, "BUY": Side.BUY, "S": Side.SELL, "SELL": Side.SELL, "": None}


class ReplayError(ValueError):
    """The file cannot be replayed: what is wrong and on which line."""


@dataclass(frozen=True, slots=True)
class RecordedTrade:
    """One row: `offset` seconds after the file's first row."""

    offset: float
    symbol: str
    price: Decimal
    quantity: int
    side: Side | None
    prev_close: Decimal | None = None


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.combine(date(2000, 1, 1), time.fromisoformat(text))


def parse_rows(rows: list[dict[str, str]]) -> list[RecordedTrade]:
    """Recorded trades from CSV rows (as csv.DictReader gives them)."""
    trades: list[RecordedTrade] = []
    first: datetime | None = None
    previous: datetime | None = None
    for line, row in enumerate(rows, start=2):
        try:
            at = _moment(row["time"].strip())
            first = first or at
            if previous is not None and at < previous:
                raise ReplayError(f"line {line}: time goes backwards")
            previous = at
            price = Decimal(row["price"].strip())
            quantity = int(row["quantity"].strip())
            side = _SIDES[(row.get("side") or "").strip().upper()]
            prev_close_text = (row.get("prev_close") or "").strip()
            prev_close = Decimal(prev_close_text) if prev_close_text else None
        except ReplayError:
            raise
        except (KeyError, ValueError, InvalidOperation, TypeError) as exc:
            raise ReplayError(f"line {line}: cannot read {row!r} ({exc!r})") from None
        if price <= 0 or quantity <= 0:
            raise ReplayError(f"line {line}: price and quantity must be positive")
        offset = (at - first).total_seconds()
        trades.append(RecordedTrade(offset, row["symbol"].strip(), price, quantity, side, prev_close))
    return trades


def read_csv(path: str | Path) -> list[RecordedTrade]:
    """Recorded trades of a CSV file (see the module docstring for the format)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"time", "symbol", "price", "quantity"} - set(reader.fieldnames or ())
        if missing:
            raise ReplayError(f"{path}: missing columns {sorted(missing)}")
        return parse_rows(list(reader))


@dataclass(frozen=True, slots=True)
class Replay:
    """A recording and how to play it: `speed` 10 plays ten times faster than recorded."""

    trades: list[RecordedTrade]
    speed: float = 1.0
    loop: bool = False

    @classmethod
    def from_file(cls, path: str | Path, speed: float = 1.0, loop: bool = False) -> Replay:
        if speed <= 0:
            raise ReplayError("speed must be positive")
        return cls(read_csv(path), speed, loop)


async def play(exchange: ReplayTarget, replay: Replay) -> int:
    """Feed the recording into the exchange in real time scaled by `speed`; returns the trades played."""
    clock = asyncio.get_running_loop().time
    played = skipped = 0
    while True:
        started = clock()
        rebased: set[str] = set()
        for trade in replay.trades:
            delay = started + trade.offset / replay.speed - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            if trade.symbol not in exchange.instruments:
                skipped += 1
                continue
            if trade.prev_close is not None and trade.symbol not in rebased:
                rebased.add(trade.symbol)
                exchange.desk.rebase(trade.symbol, trade.prev_close)
            instrument = exchange.instruments[trade.symbol]
            low, high = instrument.limit_down, instrument.limit_up
            if (low is not None and trade.price < low) or (high is not None and trade.price > high):
                skipped += 1
                continue
            exchange.play(trade.symbol, trade.price, trade.quantity, trade.side)
            played += 1
        if not replay.loop or not replay.trades:
            break
    if skipped:
        log.warning("replay skipped %d trades (unknown symbol or outside the price limits)", skipped)
    log.info("replay finished: %d trades played", played)
    return played
