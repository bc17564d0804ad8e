"""The venue's durable state: the fence, the execution report journal, and what must be on the book.

Every execution report is written to `execution_report` (fenced: only by the current lease holder) before
it is booked; `booked` is set once the trading service booked it. After a crash between the two, the next
holder books the journal's unbooked reports first, so each is booked once (booking is idempotent by
`exec_id` as well). Reports of orders still working are kept: they number the next executions, and they
tell a re-delivered SubmitOrder that part of the order already traded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from brokerql.bus import codec
from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.gateway import ExecType, ExecutionReport
from brokerql.domain.trading.orders import OrderStatus
from brokerql.exchange.client_orders import WorkingOrder
from brokerql.exchange.lease import LeaseLost
from brokerql.store.database import Database
from brokerql.store.tables import FillRow, OrderRow
from brokerql.store.tables_exchange import ExecutionReportRow, VenueLeaseRow

VENUE = "exchange"
# Books batches of new TRADE reports in the journal's unit of work (`ReportJournal.append(book=...)`).
Booking = Callable[[Any, list[list[ExecutionReport]]], Awaitable[None]]
_WORKING = [s.value for s in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)]
_CLOSING = (ExecType.CANCELED.value, ExecType.EXPIRED.value)
_REPORTS = ExecutionReportRow.__table__  # type: ignore[attr-defined]
_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]
_FILLS = FillRow.__table__  # type: ignore[attr-defined]


def _working_orders_query() -> Select[Any]:
    """Each working order with what its journal and its fills say, in one statement (a read per command
    batch, so per order at full speed): counts in correlated subqueries on their order_id indexes. Built
    once, so each read neither rebuilds it nor works out its cache key again; on the tables' columns, so
    SQLAlchemy runs it as a Core statement, without the ORM's compile state (about 0.1 ms a run)."""
    report, orders, fills = _REPORTS.c, _ORDERS.c, _FILLS.c
    of_order, trade = report.order_id == orders.id, report.exec_type == ExecType.TRADE.value
    unbooked = func.coalesce(func.sum(report.last_qty), 0)
    order = (orders.id, orders.symbol, orders.side, orders.type, orders.price, orders.leaves_qty)
    return (
        select(
            *order,
            orders.time_in_force,
            orders.status,
            orders.created_at,
            select(func.count()).where(of_order, trade).scalar_subquery().label("trades"),
            select(unbooked).where(of_order, trade, report.booked.is_(False)).scalar_subquery().label("unbooked"),
            exists().where(of_order, report.exec_type.in_(_CLOSING)).label("closed"),
            select(func.count()).where(fills.order_id == orders.id).scalar_subquery().label("fills"),
        )
        .where(orders.status.in_(_WORKING), orders.leaves_qty > 0)
        .order_by(orders.id)
    )


_ALL_WORKING = _working_orders_query()
_WORKING_OF = _ALL_WORKING.where(_ORDERS.c.id.in_(bindparam("ids", expanding=True)))
_LEASE = VenueLeaseRow.__table__  # type: ignore[attr-defined]
# (An UPDATE's bind parameters must not be named after its columns.)
_FENCE = update(_LEASE).where(_LEASE.c.name == bindparam("venue"), _LEASE.c.token == bindparam("fence_token"))
_FENCE_BEAT = _FENCE.values(heartbeat_at=bindparam("beat_at"))  # a journal append: the fence alone
_FENCE_TOUCH = _FENCE_BEAT.values(last_match_at=bindparam("match_at"), last_quote_at=bindparam("quote_at"))
_NEW_REPORTS = {  # is SQLite -> the journal's INSERT, a repeated exec_id kept as it was
    sqlite: dialect_insert(_REPORTS).on_conflict_do_nothing(index_elements=["exec_id"]).returning(_REPORTS.c.exec_id)
    for sqlite, dialect_insert in ((True, sqlite_insert), (False, pg_insert))
}


class ReportJournal:
    """Fenced writes of execution reports, and the venue's view of the durable state."""

    def __init__(self, db: Database, venue: str = VENUE) -> None:
        self.db = db
        self.venue = venue

    # -- the fence ----------------------------------------------------------------------------------

    async def claim(self, candidate: int, holder: str, now: datetime) -> int:
        """Become the current holder: a token above every earlier one (and at least `candidate`)."""
        async with self.db.transaction(precedence=True) as uow:
            row = await uow.session.get(VenueLeaseRow, self.venue, with_for_update=not self.db.is_sqlite)
            if row is None:
                row = VenueLeaseRow(name=self.venue, token=0, acquired_at=now, heartbeat_at=now)
                uow.session.add(row)
            row.token = max(row.token + 1, candidate)
            row.holder, row.acquired_at, row.heartbeat_at = holder, now, now
            row.last_match_at = row.last_quote_at = None
            return row.token

    async def _fence(self, session: Any, token: int, now: datetime, **times: datetime | None) -> None:
        """Raise LeaseLost unless `token` is still the current one; stamps the heartbeat (and `times`:
        `match_at` and `quote_at`, both or neither)."""
        statement = _FENCE_TOUCH if times else _FENCE_BEAT
        params = {"venue": self.venue, "fence_token": token, "beat_at": now, **times}
        if (await session.execute(statement, params)).rowcount != 1:
            raise LeaseLost(f"fencing token {token} is no longer the current one")

    async def touch(
        self, token: int, now: datetime, *, last_match_at: datetime | None, last_quote_at: datetime | None
    ) -> None:
        """A fenced heartbeat: raises LeaseLost when a newer holder has claimed the venue."""
        async with self.db.transaction(precedence=True) as uow:
            await self._fence(uow.session, token, now, match_at=last_match_at, quote_at=last_quote_at)

    async def lease_row(self) -> VenueLeaseRow | None:
        """The current holder, its token and its last heartbeat (what every process reads for liveness)."""
        async with self.db.read() as session:
            return await session.get(VenueLeaseRow, self.venue)

    # -- the journal --------------------------------------------------------------------------------

    async def append(
        self, token: int, reports: Sequence[ExecutionReport], now: datetime, *, book: Booking | None = None
    ) -> list[ExecutionReport]:
        """Make `reports` durable, fenced by `token`; returns those that were new (a report journalled
        before, e.g. by a previous holder, is kept as it was and is booked from there).

        With `book`, the new ones are booked in the same unit of work (`book(uow, batches)`) and
        journalled as booked: one commit for both. If `book` raises, nothing is kept."""
        if not reports:
            return []
        rows = [
            {
                "exec_id": r.exec_id,
                "order_id": r.order_id,
                "exec_type": r.exec_type.value,
                "last_qty": r.last_qty,
                "report": codec.to_record(r),
                "token": token,
                "booked": book is not None,
                "created_at": now,
            }
            for r in reports
        ]
        # Rows as parameters of one cached statement (executemany), not in it: a multi-row VALUES is
        # compiled anew on every call, 1-10 ms of the loop's time for 1-20 reports.
        async with self.db.transaction(precedence=True) as uow:
            await self._fence(uow.session, token, now)
            new = set((await uow.session.execute(_NEW_REPORTS[self.db.is_sqlite], rows)).scalars().all())
            fresh = [r for r in reports if r.exec_id in new]
            if book is not None and fresh:
                await book(uow, booking_batches(fresh))
        return fresh

    async def mark_booked(self, reports: Sequence[ExecutionReport]) -> None:
        """Not fenced: booking is idempotent, so whoever booked a report may say so."""
        ids = [r.exec_id for r in reports]
        async with self.db.transaction(precedence=True) as uow:
            await uow.session.execute(
                update(ExecutionReportRow).where(ExecutionReportRow.exec_id.in_(ids)).values(booked=True)
            )

    async def unbooked(self) -> list[ExecutionReport]:
        """Journalled but not (known to be) booked, in journal order."""
        async with self.db.read() as session:
            query = select(ExecutionReportRow.report).where(ExecutionReportRow.booked.is_(False))
            records = (await session.scalars(query.order_by(ExecutionReportRow.seq))).all()
        return [r for record in records if isinstance(r := codec.from_record(record), ExecutionReport)]

    async def prune(self) -> int:
        """Forget booked reports of orders that are no longer working (their numbering is finished)."""
        finished = select(OrderRow.id).where(OrderRow.status.not_in(_WORKING))
        async with self.db.transaction(precedence=True) as uow:
            result = await uow.session.execute(
                delete(ExecutionReportRow).where(
                    ExecutionReportRow.booked.is_(True), ExecutionReportRow.order_id.in_(finished)
                )
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- what must be on the book -------------------------------------------------------------------

    async def working_orders(self, order_ids: Sequence[str] | None = None) -> list[tuple[WorkingOrder, int]]:
        """Client orders the venue must hold, with how many executions each already had.

        The database's working orders, less what the journal says already left them (an unbooked
        trade, a cancel or an expiry the booking has not caught up with yet).
        """
        query = _WORKING_OF if order_ids is not None else _ALL_WORKING
        params = {"ids": list(order_ids)} if order_ids is not None else {}
        async with self.db.read() as session:
            rows = (await session.execute(query, params)).all()
        result = []
        for r in rows:
            leaves = r.leaves_qty - int(r.unbooked)
            if r.closed or leaves <= 0:
                continue
            order = WorkingOrder(
                order_id=r.id,
                symbol=r.symbol,
                side=Side(r.side),
                type=OrderType(r.type),
                price=r.price,
                leaves_qty=r.leaves_qty,
                time_in_force=TimeInForce(r.time_in_force),
                cancel_requested=r.status == OrderStatus.PENDING_CANCEL.value,
                created_at=r.created_at,
            )
            result.append((replace(order, leaves_qty=leaves), max(int(r.trades), int(r.fills))))
        return result


def unique_reports(reports: Sequence[ExecutionReport]) -> list[ExecutionReport]:
    """Each exec_id once, first occurrence kept (a journal insert must not see one twice)."""
    seen: set[str] = set()
    return [r for r in reports if not (r.exec_id in seen or seen.add(r.exec_id))]  # type: ignore[func-returns-value]


def booking_batches(reports: Sequence[ExecutionReport]) -> list[list[ExecutionReport]]:
    """Consecutive trades of one order go together (one booking transaction); anything else alone."""
    batches: list[list[ExecutionReport]] = []
    for report in reports:
        last = batches[-1] if batches else None
        if last and report.is_trade and last[0].is_trade and last[0].order_id == report.order_id:
            last.append(report)
        else:
            batches.append([report])
    return batches
