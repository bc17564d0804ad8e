"""Booking executions: fees, funds, position (T+1) and the order, with a FILL event per execution.

`exec_id` makes fill booking idempotent (a unique column written with INSERT ... ON CONFLICT DO
NOTHING), so the exchange may retry after a lost answer. Consecutive executions of one order (a
marketable order sweeping several price levels) are booked in one transaction, still one FILL event
and seq each, in the exchange's order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from brokerql.domain.trading.account import Account
from brokerql.domain.trading.gateway import ExecutionReport
from brokerql.domain.trading.messages import AccountEventKind, FillView
from brokerql.domain.trading.orders import Order, OrderError, OrderFilled
from brokerql.services.trading.base import TradingBase, log
from brokerql.services.trading.requests import fee_basis
from brokerql.store.accounts import append_event, insert_fill, order_to_row, save_account
from brokerql.store.columns import new_id, utcnow
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import AccountRow, FillRow, OrderRow


class _BookSeparately(Exception):
    """One execution of a batch was a repeat or refused: roll the batch back and book them one by one."""


class Filling(TradingBase):
    async def book_fill(self, order_id: str, execution: ExecutionReport) -> None:
        """One execution in one transaction with its FILL event."""
        now = utcnow()
        async with self.db.transaction() as uow:
            loaded = await self._order_and_account(uow, order_id, now)
            if loaded is not None:
                await self._apply_fill(uow, *loaded, execution, now)

    async def book_fills(self, order_id: str, executions: list[ExecutionReport]) -> None:
        """Consecutive executions of one order in one transaction, a FILL event (and seq) each."""
        if len(executions) == 1:
            await self.book_fill(order_id, executions[0])
            return
        now = utcnow()
        try:
            async with self.db.transaction() as uow:
                loaded = await self._order_and_account(uow, order_id, now)
                if loaded is None:
                    return
                for execution in executions:
                    if not await self._apply_fill(uow, *loaded, execution, now):
                        raise _BookSeparately
        except _BookSeparately:  # rare (a retry after a lost answer): each on its own, as book_fill does
            for execution in executions:
                await self.book_fill(order_id, execution)

    async def _apply_fill(
        self,
        uow: UnitOfWork,
        order_row: OrderRow,
        order: Order,
        row: AccountRow,
        account: Account,
        execution: ExecutionReport,
        now: datetime,
    ) -> bool:
        """Book one execution into the loaded order and account; False (nothing written) if it was
        already booked or the domain refused it."""
        exec_id, price, quantity = execution.exec_id, execution.last_px, execution.last_qty
        assert price is not None, "a TRADE report carries its price"
        instrument = self.instruments[order.symbol]
        fees = account.fees_for_fill(order, price, quantity, fee_basis(instrument))
        fill = OrderFilled(
            order_id=order.id,
            ts=now,
            fill_id=new_id("fil"),
            price=price,
            quantity=quantity,
            fees=fees,
            liquidity=execution.liquidity,
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
                log.error("fill %s for order %s refused by the domain: %s", exec_id, order.id, exc)
            return False
        if not await insert_fill(uow, fill_row):
            return False  # already booked: the exchange retried after a lost answer
        order_to_row(order, order_row)
        await save_account(uow, row, account, now)
        view = FillView.of(fill, exec_id=exec_id, symbol=order.symbol, side=order.side)
        await append_event(uow, row, AccountEventKind.FILL, now=now, order=order, fill=view)
        return True
