"""The venue host's bookings: a slow booking holds up only its own order's later reports."""

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

    async def book(self, reports: Sequence[ExecutionReport]) -> None:
        if (event := self.held.get(reports[0].exec_id)) is not None:
            await event.wait()
        async with self.changed:
            self.booked += [r.exec_id for r in reports]
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
    batches = [[trade("A", "A:1", Decimal(10), 100)], [trade("A", "A:2", Decimal(10), 100)]]
    batches += [[trade(f"B{k}", f"B{k}:1", Decimal(10), 100)] for k in range(40)]  # more than run at once
    for batch in batches:
        bookings.put(batch)

    await booker.until(40)  # every other order's, though A's first is held
    assert "A:2" not in booker.booked
    release.set()
    await booker.until(42)
    assert booker.booked[-2:] == ["A:1", "A:2"]
    await bookings.flush_booked()
    assert sorted(journal.marked) == sorted(r.exec_id for b in batches for r in b)
    worker.cancel()
    await bookings.stop()
