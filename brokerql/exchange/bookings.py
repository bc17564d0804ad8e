"""The venue host's bookings: journalled execution reports booked by the trading service.

Up to `BOOKINGS_AT_ONCE` different orders are booked at once (on SQLite their units of work share group
commits), each order's reports in the venue's order. A slot is taken again as soon as a booking ends:
in rounds of 16, every round waited for its slowest booking (on PostgreSQL, one waiting for its
account's lock behind that client's next placement) before the next could start.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from brokerql.domain.trading.gateway import ExecutionReport
from brokerql.exchange.client_orders import ExecutionBooker
from brokerql.exchange.reports import ReportJournal
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)

BOOKINGS_AT_ONCE = 16  # on PostgreSQL more than the precedence pool holds: the rest wait for one there


class Bookings:
    """The reports waiting to be booked, the bookings running, and the trades booked but not yet marked
    booked in the journal (marked lazily: a trade booked twice is one fill, its exec_id is unique)."""

    def __init__(self, booker: ExecutionBooker, journal: ReportJournal) -> None:
        self.booker = booker
        self.journal = journal
        self._queue: asyncio.Queue[list[ExecutionReport]] = asyncio.Queue()
        self._running: set[asyncio.Task[None]] = set()
        self._booked_trades: list[ExecutionReport] = []

    def put(self, batch: list[ExecutionReport]) -> None:
        """Book `batch` (consecutive reports of one order) after what was put before it for that order."""
        self._queue.put_nowait(batch)

    async def stop(self) -> None:
        """Stop booking, and forget what waits: it is journalled, the next holder books it."""
        await stop_tasks(self._running)
        self._queue = asyncio.Queue()

    async def run(self) -> None:
        slots = asyncio.Semaphore(BOOKINGS_AT_ONCE)
        last_of_order: dict[str, asyncio.Task[None]] = {}
        while True:
            batch = await self._queue.get()
            await slots.acquire()
            order_id = batch[0].order_id
            task = asyncio.create_task(self._book_after(last_of_order.get(order_id), batch, slots))
            last_of_order[order_id] = task
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            task.add_done_callback(partial(_forget, last_of_order, order_id))

    async def _book_after(
        self, previous: asyncio.Task[None] | None, batch: list[ExecutionReport], slots: asyncio.Semaphore
    ) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])  # the order's earlier reports first
            await self.book(batch)
        finally:
            slots.release()

    async def book(self, batch: list[ExecutionReport]) -> None:
        """Book one batch, retrying until the database takes it: a fill must not be dropped."""
        delay = 0.2
        while True:
            try:
                await self.booker.book(batch)
                if batch[0].is_trade:
                    self._booked_trades.extend(batch)
                else:
                    await self.journal.mark_booked(batch)
                return
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is unreachable
                log.exception("booking %s failed; retrying in %.1fs", [r.exec_id for r in batch], delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def flush_booked(self) -> None:
        """Mark the trades booked since the last flush as booked in the journal."""
        booked, self._booked_trades = self._booked_trades, []
        if booked:
            await self.journal.mark_booked(booked)


def _forget(last_of_order: dict[str, asyncio.Task[None]], order_id: str, task: asyncio.Task[None]) -> None:
    if last_of_order.get(order_id) is task:
        del last_of_order[order_id]
