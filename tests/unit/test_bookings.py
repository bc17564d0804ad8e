"""The venue host's bookings: what waits is booked together; a slow booking holds up only its own group
and its orders' later reports."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from brokerql.domain.trading.gateway import ExecType, ExecutionReport
from brokerql.exchange.bookings import Bookings
from brokerql.exchange.lease import LeaseLost
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


class AppendingJournal(Journal):
    """Journals what `journal_and_book` hands it and books it with the `book` it is given."""

    def __init__(self, fails: Exception | None = None) -> None:
        super().__init__()
        self.fails = fails
        self.appended: list[str] = []

    async def append(self, token, reports, now, *, book=None):  # type: ignore[no-untyped-def]
        if self.fails is not None:
            raise self.fails
        self.appended += [r.exec_id for r in reports]
        await book(None, [list(reports)])
        return list(reports)


class InUnitOfWorkBooker(HeldBooker):
    async def book_together_in(self, uow, batches):  # type: ignore[no-untyped-def]
        await self.book_together(batches)


async def test_trades_are_journalled_and_booked_at_once_only_when_nothing_waits() -> None:
    booker, journal = InUnitOfWorkBooker({}), AppendingJournal()
    bookings = Bookings(booker, journal)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    assert await bookings.journal_and_book(1, [trade("A", "A:1", Decimal(10), 100)], now)
    assert journal.appended == booker.booked == ["A:1"]

    bookings.put([trade("B", "B:1", Decimal(10), 100)])  # waiting: a later report must not overtake it
    assert not await bookings.journal_and_book(1, [trade("B", "B:2", Decimal(10), 100)], now)
    fresh = Bookings(booker, journal)  # type: ignore[arg-type]
    canceled = replace(trade("C", "C:1", Decimal(10), 100), exec_type=ExecType.CANCELED)
    assert not await fresh.journal_and_book(1, [canceled], now)  # not a trade: booked on its own
    assert journal.appended == ["A:1"]


async def test_a_refused_booking_at_once_falls_back_and_a_lost_lease_is_raised() -> None:
    now, reports = datetime.now(UTC), [trade("A", "A:1", Decimal(10), 100)]
    refused = Bookings(InUnitOfWorkBooker({}), AppendingJournal(fails=RuntimeError("a repeat")))  # type: ignore[arg-type]
    assert not await refused.journal_and_book(1, reports, now)
    fenced = Bookings(InUnitOfWorkBooker({}), AppendingJournal(fails=LeaseLost("fenced")))  # type: ignore[arg-type]
    with pytest.raises(LeaseLost):
        await fenced.journal_and_book(1, reports, now)
