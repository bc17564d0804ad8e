"""Client orders as the exchange sees them: what it must hold on its books, and where results go.

DAY orders live for one trading day. When the desk rolls an instrument to its next trading day, the
client orders still resting from an earlier day are taken off the book and reported as expired; an
order the database still has working from a past day (the exchange was down at the roll) is expired
at reconcile instead of being put back on the book.

What the books produce for client orders is queued and booked by one worker (`run_bookings`) in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.gateway import ExecutionReport, SubmitOrder

log = logging.getLogger("brokerql.exchange.engine")


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """A client order the exchange must have on its book."""

    order_id: str
    symbol: str
    side: Side
    type: OrderType
    price: Decimal | None
    leaves_qty: int
    time_in_force: TimeInForce
    cancel_requested: bool = False
    created_at: datetime | None = None  # when known (from the database): gives the order's trading day

    @classmethod
    def of(cls, command: SubmitOrder) -> WorkingOrder:
        return cls(
            order_id=command.order_id,
            symbol=command.symbol,
            side=command.side,
            type=command.type,
            price=command.price,
            leaves_qty=command.quantity,
            time_in_force=command.time_in_force,
            created_at=command.created_at,
        )


class ExecutionBooker(Protocol):
    """Where the exchange's results for client orders go (the trading service)."""

    async def book(self, reports: Sequence[ExecutionReport]) -> None:
        """Consecutive execution reports of one order, booked in order, each once (by exec_id)."""

    async def working_orders(self) -> list[WorkingOrder]: ...


class RestingClientOrders:
    """The client orders resting on the books: their symbol and the trading day they belong to."""

    def __init__(self) -> None:
        self.symbols: dict[str, str] = {}
        self.days: dict[str, date] = {}

    def add(self, order_id: str, symbol: str, day: date) -> None:
        self.symbols[order_id] = symbol
        self.days[order_id] = day

    def __contains__(self, order_id: object) -> bool:
        return order_id in self.symbols

    def discard(self, order_id: str) -> None:
        self.symbols.pop(order_id, None)
        self.days.pop(order_id, None)

    def before(self, symbol: str, day: date) -> list[str]:
        """The resting orders of `symbol` from a trading day before `day` (oldest first by id)."""
        return sorted(o for o, s in self.symbols.items() if s == symbol and self.days[o] < day)


async def run_bookings(
    jobs: asyncio.Queue[ExecutionReport], booker: ExecutionBooker, after: Callable[[], Awaitable[None]]
) -> None:
    """Book the exchange's reports in the order the books produced them, one worker.

    Consecutive fills of one order (a sweep of several levels) are booked in one transaction. `after`
    (quote publishing) runs after every booking except in the middle of a burst of fills.
    """
    held: ExecutionReport | None = None
    while True:
        first = held or await jobs.get()
        held = None
        batch = [first]
        while first.is_trade and not jobs.empty():
            held = jobs.get_nowait()
            if not (held.is_trade and held.order_id == first.order_id):
                break
            batch.append(held)
            held = None
        await _book(booker, batch)
        if not first.is_trade or (held is None and jobs.empty()):
            await after()


async def _book(booker: ExecutionBooker, batch: list[ExecutionReport]) -> None:
    delay = 0.2
    while True:
        try:
            await booker.book(batch)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # the database is unreachable: a fill must not be dropped, so retry
            log.exception("booking %s failed; retrying in %.1fs", batch, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
