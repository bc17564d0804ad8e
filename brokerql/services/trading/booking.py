"""Booking what the exchange did with client orders (the ExecutionBooker the exchange calls).

Each booking is one transaction: the order, the funds, the position and the account's next event.
Fills are booked in `filling.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.gateway import ExecType, ExecutionReport
from brokerql.domain.trading.messages import AccountEventKind
from brokerql.domain.trading.orders import (
    Order,
    OrderCanceled,
    OrderCancelRejected,
    OrderError,
    OrderExpired,
    OrderStatus,
)
from brokerql.exchange.engine import WorkingOrder
from brokerql.services.trading.base import TradingBase, log
from brokerql.store.accounts import append_event, order_to_row, save_account
from brokerql.store.columns import utcnow
from brokerql.store.tables import OrderRow

_WORKING = [s.value for s in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)]


class Booking(TradingBase):
    async def book(self, reports: Sequence[ExecutionReport]) -> None:
        """What the venue did to one order (consecutive reports of it), each booked once."""
        first = reports[0]
        if first.is_trade:
            await self.book_fills(first.order_id, list(reports))
            return
        for report in reports:
            if report.exec_type is ExecType.CANCELED:
                await self.book_canceled(report.order_id, report.last_qty, report.text)
            elif report.exec_type is ExecType.EXPIRED:
                await self.book_expired(report.order_id, report.last_qty)
            elif report.exec_type is ExecType.CANCEL_REJECTED:
                await self.book_cancel_rejected(report.order_id, report.text)
            else:
                await self.book_fills(report.order_id, [report])

    async def book_canceled(self, order_id: str, quantity: int, reason: str) -> None:
        """The rest of an order left the book: release what it held, CANCELED event."""
        await self._close(
            order_id,
            lambda order, now: OrderCanceled(order_id=order.id, ts=now, canceled_quantity=quantity, reason=reason),
            reason,
        )

    async def book_expired(self, order_id: str, quantity: int) -> None:
        """A DAY order's trading day ended with `quantity` left: release what it held, EXPIRED event."""
        await self._close(
            order_id,
            lambda order, now: OrderExpired(order_id=order.id, ts=now),
            "end of trading day",
            expected_left=quantity,
        )

    async def _close(
        self,
        order_id: str,
        make_event: Callable[[Order, datetime], OrderCanceled | OrderExpired],
        reason: str,
        expected_left: int | None = None,
    ) -> None:
        """End an order without further fills, in one transaction with its event; a repeat changes nothing."""
        now = utcnow()
        async with self.db.transaction() as uow:
            loaded = await self._order_and_account(uow, order_id, now)
            if loaded is None:
                return
            order_row, order, row, account = loaded
            if not order.status.is_working:
                return  # already finished (e.g. its cancel or its last fill was booked first)
            if expected_left is not None and expected_left != order.leaves_qty:
                log.warning(
                    "%s of %s reports %d left, the order has %d", reason, order_id, expected_left, order.leaves_qty
                )
            event = make_event(order, now)
            try:
                account.close_order(order, event)
            except (OrderError, ValueError) as exc:
                log.error("%s of %s refused by the domain: %s", event.kind, order_id, exc)
                return
            order_to_row(order, order_row)
            await save_account(uow, row, account, now)
            await append_event(uow, row, AccountEventKind(event.kind.value), now=now, order=order, reason=reason)

    async def book_cancel_rejected(self, order_id: str, reason: str) -> None:
        """The exchange refused a cancel (the fill won the race): CANCEL_REJECTED with TOO_LATE_TO_CANCEL."""
        now = utcnow()
        async with self.db.transaction() as uow:
            loaded = await self._order_and_account(uow, order_id, now)
            if loaded is None:
                return
            order_row, order, row, _account = loaded
            if order.status is not OrderStatus.PENDING_CANCEL and order.status is not OrderStatus.FILLED:
                return
            event = OrderCancelRejected(order_id=order.id, ts=now, reason=reason)
            order.apply(event)
            order_to_row(order, order_row)
            kind = AccountEventKind.CANCEL_REJECTED
            await append_event(uow, row, kind, now=now, order=order, code=event.code, reason=reason)

    async def working_orders(self) -> list[WorkingOrder]:
        """Every order the exchange must have on a book (its recovery source after a restart)."""
        async with self.db.read() as session:
            query = select(OrderRow).where(OrderRow.status.in_(_WORKING)).order_by(OrderRow.id)
            rows = (await session.scalars(query)).all()
        return [
            WorkingOrder(
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
            for r in rows
            if r.leaves_qty > 0
        ]
