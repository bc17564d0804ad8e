"""The venue's view of what must be on the book (ReportJournal.working_orders, one statement): the
database's working orders less what the journal says already left them, with their execution counts."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from brokerql.exchange.reports import ReportJournal
from brokerql.store.database import Database
from brokerql.store.tables import AccountRow, FillRow, OrderRow
from brokerql.store.tables_exchange import ExecutionReportRow


def _order(order_id: str, account_id: str, status: str = "NEW", leaves: int = 300) -> OrderRow:
    return OrderRow(
        id=order_id, account_id=account_id, symbol="600000", side="BUY", type="LIMIT", price=Decimal("10"),
        quantity=300, status=status, cum_qty=300 - leaves, leaves_qty=leaves,
    )  # fmt: skip


def _report(exec_id: str, order_id: str, exec_type: str, qty: int, *, booked: bool) -> ExecutionReportRow:
    return ExecutionReportRow(exec_id=exec_id, order_id=order_id, exec_type=exec_type, last_qty=qty, booked=booked)


def _fill(fill_id: str, order_id: str, account_id: str) -> FillRow:
    return FillRow(
        id=fill_id, exec_id=f"x-{fill_id}", order_id=order_id, account_id=account_id, symbol="600000", side="BUY",
        price=Decimal("10"), quantity=100, commission=Decimal(0), stamp_duty=Decimal(0), transfer_fee=Decimal(0),
    )  # fmt: skip


async def test_working_orders_less_what_the_journal_says_left_them(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    try:
        async with db.read() as session:
            account_id = await session.scalar(select(AccountRow.id).limit(1))
        assert account_id is not None
        async with db.transaction() as uow:
            uow.session.add_all(
                [
                    _order("o-fresh", account_id),
                    _order("o-part", account_id, "PARTIALLY_FILLED", leaves=200),  # one trade booked, one not
                    _order("o-cancel", account_id),  # the venue canceled it; not booked yet
                    _order("o-gone", account_id),  # traded in full; the booking has not caught up
                    _order("o-done", account_id, "FILLED", leaves=0),
                    _order("o-pending", account_id, "PENDING_CANCEL"),
                ]
            )
            await uow.session.flush()
            uow.session.add_all(
                [
                    _report("e1", "o-part", "TRADE", 100, booked=True),
                    _report("e2", "o-part", "TRADE", 50, booked=False),
                    _report("e3", "o-cancel", "CANCELED", 300, booked=False),
                    _report("e4", "o-gone", "TRADE", 300, booked=False),
                    _fill("f1", "o-part", account_id),
                    _fill("f2", "o-pending", account_id),  # a fill whose report the journal no longer holds
                ]
            )
        journal = ReportJournal(db)
        every = {o.order_id: (o.leaves_qty, o.cancel_requested, n) for o, n in await journal.working_orders()}
        assert {k: v for k, v in every.items() if k.startswith("o-")} == {
            "o-fresh": (300, False, 0),
            "o-part": (150, False, 2),
            "o-pending": (300, True, 1),
        }
        some = await journal.working_orders(["o-part", "o-gone", "o-done"])
        assert [(o.order_id, o.leaves_qty, n) for o, n in some] == [("o-part", 150, 2)]
        assert await journal.working_orders(["nothing"]) == []
    finally:
        await db.dispose()
