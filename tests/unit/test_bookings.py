"""The venue host's bookings: what waits is booked together; a slow booking holds up only its own group
and its orders' later reports."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

from brokerql.domain.trading.gateway import ExecutionReport
from brokerql.exchange.bookings import Bookings
from tests.reports import trade


class HeldBooker:
    """Books at once, except the reports listed in `held`, which wait for their event."""

    def __init__(self, held: dict[str, asyncio.Event]) -> None:
        self.held = held
        self.booked: list[str] = []
        self.changed = asyncio.Condition()

        self.groups: list[list[str]] = []  # the first exec_id of each batch booked together

    async def book(self, reports: Sequence[ExecutionReport]) -> None:
        await self.book_together([reports])

    async def book_together(self, batches: Sequence[Sequence[ExecutionReport]]) -> None:
        for batch in batches:
            if (event := self.held.get(batch[0].exec_id)) is not None:
                await event.wait()
        if len(batches) > 1:
            self.groups.append([batch[0].exec_id for batch in batches])
        async with self.changed:
            self.booked += [r.exec_id for batch in batches for r in batch]
            self.changed.notify_all()

    async def until(self, count: int) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: len(self.booked) >= count)


class Journal:
    def __init__(self) -> None:
        self.marked: list[str] = []

    async def mark_booked(self, reports: Sequence[ExecutionReport]) -> None:
        self.marked += [r.exec_id for r in reports]


async def test_other_orders_are_booked_while_one_waits_and_its_own_reports_stay_in_order() -> None:
    release = asyncio.Event()
    booker, journal = HeldBooker({"A:1": release}), Journal()
    bookings = Bookings(booker, journal)  # type: ignore[arg-type]
    worker = asyncio.create_task(bookings.run())
    first = [trade("A", "A:1", Decimal(10), 100)]
    bookings.put(first)
    await asyncio.sleep(0.01)  # A's first report is being booked (held)
    later = [[trade("A", "A:2", Decimal(10), 100)]]
    later += [[trade(f"B{k}", f"B{k}:1", Decimal(10), 100)] for k in range(40)]
    for batch in later:
        bookings.put(batch)

    await booker.until(40)  # every other order's, though A's first is held
    assert "A:2" not in booker.booked
    assert booker.groups == [[f"B{k}:1" for k in range(40)]]  # what waited, in one unit of work
    release.set()
    await booker.until(42)
    assert booker.booked[-2:] == ["A:1", "A:2"]
    await bookings.flush_booked()
    assert sorted(journal.marked) == sorted(r.exec_id for b in [first, *later] for r in b)
    worker.cancel()
    await bookings.stop()


async def test_an_orders_reports_in_one_group_stay_in_order() -> None:
    booker, journal = HeldBooker({}), Journal()
    bookings = Bookings(booker, journal)  # type: ignore[arg-type]
    batches = [[trade("A", "A:1", Decimal(10), 100)], [trade("B", "B:1", Decimal(10), 100)]]
    batches += [[trade("A", "A:2", Decimal(10), 100), trade("A", "A:3", Decimal(10), 100)]]
    for batch in batches:
        bookings.put(batch)
    worker = asyncio.create_task(bookings.run())
    await booker.until(4)
    assert booker.groups == [["A:1", "B:1", "A:2"]]
    assert booker.booked == ["A:1", "B:1", "A:2", "A:3"]
    worker.cancel()
    await bookings.stop()
