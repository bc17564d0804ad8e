"""Booking what the exchange did with client orders (the ExecutionBooker the exchange calls).

Each booking is one transaction: the order, the funds, the position and the account's next event.
`exec_id` makes fill booking idempotent, so the exchange may retry after a lost answer.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.events import Liquidity
from brokerql.domain.trading.orders import (
    OrderCanceled,
    OrderCancelRejected,
    OrderError,
    OrderFilled,
    OrderStatus,
)
from brokerql.exchange.engine import WorkingOrder
from brokerql.services.trading.base import TradingBase, log
from brokerql.services.trading.requests import fee_basis, fill_snapshot
from brokerql.store.accounts import append_event, insert_fill, order_to_row, save_account
from brokerql.store.columns import new_id, utcnow
from brokerql.store.tables import FillRow, OrderRow

_WORKING = [s.value for s in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)]


class Booking(TradingBase):
    async def book_fill(self, order_id: str, exec_id: str, price: Decimal, quantity: int, maker: bool) -> None:
        """One execution: fees, funds, position (T+1) and the order in one transaction with a FILL event."""
        now = utcnow()
        async with self.db.transaction() as uow:
            loaded = await self._order_and_account(uow, order_id, now)
            if loaded is None:
                return
            order_row, order, row, account = loaded
            instrument = self.instruments[order.symbol]
            fees = account.fees_for_fill(order, price, quantity, fee_basis(instrument))
            fill = OrderFilled(
                order_id=order.id,
                ts=now,
                fill_id=new_id("fil"),
                price=price,
                quantity=quantity,
                fees=fees,
                liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
            )
            fill_row = FillRow(
                id=fill.fill_id,
                exec_id=exec_id,
                order_id=order.id,
                account_id=row.id,
                symbol=order.symbol,
                side=order.side.value,
                price=price,
                quantity=quantity,
                commission=fees.commission,
                stamp_duty=fees.stamp_duty,
                transfer_fee=fees.transfer_fee,
                created_at=now,
            )
            try:  # the domain changes only the in-memory order and account: nothing is written yet
                account.book_fill(order, fill, t_plus=instrument.t_plus)
            except (OrderError, ValueError) as exc:
                if not await uow.session.scalar(select(FillRow.id).where(FillRow.exec_id == exec_id)):
                    log.error("fill %s for order %s refused by the domain: %s", exec_id, order_id, exc)
                return
            if not await insert_fill(uow, fill_row):
                return  # already booked: the exchange retried after a lost answer
            order_to_row(order, order_row)
            await save_account(uow, row, account, now)
            await append_event(uow, row, "FILL", now=now, order=order_row, fill=fill_snapshot(fill_row))

    async def book_canceled(self, order_id: str, quantity: int, reason: str) -> None:
        """The rest of an order left the book: release what it held, CANCELED event."""
        now = utcnow()
        async with self.db.transaction() as uow:
            loaded = await self._order_and_account(uow, order_id, now)
            if loaded is None:
                return
            order_row, order, row, account = loaded
            try:
                account.close_order(
                    order, OrderCanceled(order_id=order.id, ts=now, canceled_quantity=quantity, reason=reason)
                )
            except (OrderError, ValueError) as exc:
                log.error("cancel of %s refused by the domain: %s", order_id, exc)
                return
            order_to_row(order, order_row)
            await save_account(uow, row, account, now)
            await append_event(uow, row, "CANCELED", now=now, order=order_row, extra={"reason": reason})

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
            order.apply(OrderCancelRejected(order_id=order.id, ts=now, reason=reason))
            order_to_row(order, order_row)
            await append_event(
                uow,
                row,
                "CANCEL_REJECTED",
                now=now,
                order=order_row,
                extra={"code": "TOO_LATE_TO_CANCEL", "reason": reason},
            )

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
            )
            for r in rows
            if r.leaves_qty > 0
        ]
