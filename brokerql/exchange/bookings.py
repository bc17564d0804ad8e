"""The venue host's bookings: journalled execution reports booked by the trading service.

When nothing waits or runs here, the venue host journals the next trades and books them in one unit
of work (`journal_and_book`): a lone fill's journal entry and booking commit together. Otherwise
reports wait here in the venue's order. Everything waiting when the bookings take the next work (up to
`GROUP_LIMIT` batches) is booked as one group: the TRADE batches of a group in one unit of work
(`ExecutionBooker.book_together`: the accounts locked and read once for the group; the fills, the
orders, the positions, the accounts and the events written with one statement each), anything else
batch by batch. The batches of orders whose earlier
reports are still being booked form a group of their own, which waits for those bookings, so each
order's reports are booked in the venue's order and a slow booking holds up only its own group and
its orders' later reports. Up to `BOOKINGS_AT_ONCE` groups run at once; a slot is taken again as soon
as its group ends (in rounds, every round waited for its slowest booking). Under load the queue grows
while the slots are busy, so groups grow with the load: one booking of a fill cost about 11
statements, a group of them a few statements more than one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from functools import partial

from brokerql.domain.trading.gateway import ExecutionReport
from brokerql.exchange.client_orders import ExecutionBooker
from brokerql.exchange.lease import LeaseLost
from brokerql.exchange.reports import ReportJournal
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)

BOOKINGS_AT_ONCE = 16  # groups; on PostgreSQL more than the precedence pool holds: the rest wait for one there
GROUP_LIMIT = 64  # batches booked in one unit of work at most


class Bookings:
    """The reports waiting to be booked, the bookings running, and the trades booked but not yet marked
    booked in the journal (marked lazily: a trade booked twice is one fill, its exec_id is unique)."""

    def __init__(self, booker: ExecutionBooker, journal: ReportJournal) -> None:
        self.booker = booker
        self.journal = journal
        self._queue: asyncio.Queue[list[ExecutionReport]] = asyncio.Queue()
        self._running: set[asyncio.Task[None]] = set()
        self._booked_trades: list[ExecutionReport] = []

    async def journal_and_book(self, token: int, reports: list[ExecutionReport], now: datetime) -> bool:
        """Journal `reports` and book them in one unit of work, when they are all trades and nothing is
        waiting or being booked here (so no earlier report of their orders can be overtaken): one commit
        fewer on a fill's way to its FILL push. False when not done (not eligible, or the booking refused
        in one unit of work: nothing kept); the caller then journals them and puts them here as usual.
        LeaseLost (fenced out) is raised."""
        if self._running or not self._queue.empty() or not all(report.is_trade for report in reports):
            return False
        try:
            await self.journal.append(token, reports, now, book=self.booker.book_together_in)
        except (LeaseLost, asyncio.CancelledError):
            raise
        except Exception:  # a repeat, a refusal, a margin account, the database: the usual way decides
            log.debug("journalling and booking %d reports at once failed", len(reports), exc_info=True)
            return False
        return True

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
            waiting = [await self._queue.get()]
            while len(waiting) < GROUP_LIMIT and not self._queue.empty():  # what came while the slots were busy
                waiting.append(self._queue.get_nowait())
            # Batches of orders still being booked wait for those bookings, apart: the rest go at once.
            free = [batch for batch in waiting if batch[0].order_id not in last_of_order]
            held = [batch for batch in waiting if batch[0].order_id in last_of_order]
            for group in (free, held):
                if group:
                    await slots.acquire()
                    self._start(group, last_of_order, slots)

    def _start(
        self, group: list[list[ExecutionReport]], last_of_order: dict[str, asyncio.Task[None]], slots: asyncio.Semaphore
    ) -> None:
        orders = list(dict.fromkeys(batch[0].order_id for batch in group))
        before = {last_of_order[o] for o in orders if o in last_of_order}
        task = asyncio.create_task(self._book_after(before, group, slots))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        for order_id in orders:
            last_of_order[order_id] = task
            task.add_done_callback(partial(_forget, last_of_order, order_id))

    async def _book_after(
        self, before: set[asyncio.Task[None]], group: list[list[ExecutionReport]], slots: asyncio.Semaphore
    ) -> None:
        try:
            if before:
                await asyncio.wait(before)  # the orders' earlier reports first
            await self.book_group(group)
        finally:
            slots.release()

    async def book_group(self, group: list[list[ExecutionReport]]) -> None:
        """The TRADE batches of `group` in one unit of work when it holds only those; else (a cancel, an
        expiry) batch by batch, in order. A group that fails is booked batch by batch."""
        if len(group) > 1 and all(batch[0].is_trade for batch in group):
            try:
                await self.booker.book_together(group)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away, or a deadlock was broken: one by one, with retries
                log.warning("booking %d orders together failed; booking them one by one", len(group), exc_info=True)
            else:
                self._booked_trades.extend(report for batch in group for report in batch)
                return
        for batch in group:
            await self.book(batch)

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
