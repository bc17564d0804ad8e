"""Booking what the venue did with client orders: the `ExecutionBooker` the exchange reports to.

Each booking is one transaction: the order, the funds, the position and the account's next event.
`exec_id` makes fill booking idempotent (a unique column written with INSERT ... ON CONFLICT DO
NOTHING), so the exchange may retry after a lost answer. Consecutive executions of one order (a
marketable order sweeping several price levels) are booked in one transaction, still one FILL event
and seq each, in the exchange's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.stock_connect import in_cny, settlement_rate
from brokerql.domain.trading.gateway import ExecType, ExecutionReport
from brokerql.domain.trading.messages import AccountEventKind, FillView
from brokerql.domain.trading.orders import (
    Order,
    OrderCanceled,
    OrderCancelRejected,
    OrderError,
    OrderExpired,
    OrderFilled,
    OrderStatus,
)
from brokerql.services.trading.accounts import (
    OrderInAccount,
    fee_basis,
    log,
    order_and_account,
    orders_and_accounts,
)
from brokerql.store.account_events import append_event
from brokerql.store.accounts import save_account, save_accounts
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.orders import fill_values, insert_fills, save_order, save_orders
from brokerql.store.tables import FillRow


@dataclass(frozen=True, slots=True)
class _Booked:
    """A fill booked in memory: as the FILL event shows it, and its row's values."""

    view: FillView
    values: dict[str, Any]


class BookSeparately(Exception):
    """One execution of a batch was a repeat or refused: roll the batch back and book them one by one."""


class ExecutionBooking:
    """Books execution reports (fills, cancels, expiries, cancel rejects) and lists the working orders."""

    def __init__(self, db: Database, instruments: dict[str, Instrument], clock: Clock) -> None:
        self.db, self.instruments, self.clock = db, instruments, clock

    async def book(self, reports: Sequence[ExecutionReport]) -> None:
        """What the venue did to one order (consecutive reports of it), each booked once."""
        first = reports[0]
        if first.is_trade:
            await self._book_fills(first.order_id, list(reports))
            return
        for report in reports:
            if report.exec_type is ExecType.CANCELED:
                await self._book_canceled(report.order_id, report.last_qty, report.text)
            elif report.exec_type is ExecType.EXPIRED:
                await self._book_expired(report.order_id, report.last_qty)
            elif report.exec_type is ExecType.CANCEL_REJECTED:
                await self._book_cancel_rejected(report.order_id, report.text)
            else:
                await self._book_fills(report.order_id, [report])

    async def book_together(self, batches: Sequence[Sequence[ExecutionReport]]) -> None:
        """The trades of several orders (each batch: consecutive TRADE reports of one order, in the venue's
        order) in one unit of work, each fill with its FILL event and seq as `book` books it. The accounts
        are locked and read once for all, and the fills, the orders, the positions, the accounts and the
        events are written with one statement each (per kind of position change), so a group costs a few
        statements more than one booking, not one booking each. If one execution is a repeat (its
        `exec_id` booked before: the fills' INSERT stores fewer rows than it was given) or refused, or an
        account is not a CASH account, nothing of the group is kept and each batch is booked on its own."""
        try:
            async with self.db.transaction(precedence=True) as uow:
                await self.book_together_in(uow, batches)
        except BookSeparately:  # rare: a retry after a lost answer, a refusal, a margin or futures account
            for batch in batches:
                await self.book(batch)

    async def book_together_in(self, uow: UnitOfWork, batches: Sequence[Sequence[ExecutionReport]]) -> None:
        """`book_together`'s writes, in the caller's unit of work (the venue's journal, when nothing else
        waits to be booked). Raises BookSeparately where `book_together` books batch by batch: the caller
        must then roll its unit of work back and book them as usual."""
        now = self.clock.now()
        found = await orders_and_accounts(uow, list(dict.fromkeys(b[0].order_id for b in batches)), now)
        if found is None:
            raise BookSeparately
        fills = []
        for batch in batches:
            for execution in batch:
                try:
                    booked = self._book_in_memory(found[execution.order_id], execution, now)
                except (OrderError, ValueError):
                    raise BookSeparately from None  # booked alone, it is logged there
                fills.append(booked.values)
                await self._fill_event(uow, found[execution.order_id], booked, now)
        if not await insert_fills(uow, fills):
            raise BookSeparately
        await save_orders(uow, [each.order for each in found.values()])
        await save_accounts(uow, list({id(f.loaded): f.loaded for f in found.values()}.values()), now)

    async def _book_fill(self, order_id: str, execution: ExecutionReport) -> None:
        """One execution in one transaction with its FILL event."""
        now = self.clock.now()
        async with self.db.transaction(precedence=True) as uow:
            found = await order_and_account(uow, order_id, now)
            if found is not None:
                await self._apply_fill(uow, found, execution, now)

    async def _book_fills(self, order_id: str, executions: list[ExecutionReport]) -> None:
        """Consecutive executions of one order in one transaction, a FILL event (and seq) each."""
        if len(executions) == 1:
            await self._book_fill(order_id, executions[0])
            return
        now = self.clock.now()
        try:
            async with self.db.transaction(precedence=True) as uow:
                found = await order_and_account(uow, order_id, now)
                if found is None:
                    return
                for execution in executions:
                    if not await self._apply_fill(uow, found, execution, now):
                        raise BookSeparately
        except BookSeparately:  # rare (a retry after a lost answer): each on its own, as _book_fill does
            for execution in executions:
                await self._book_fill(order_id, execution)

    async def _apply_fill(
        self, uow: UnitOfWork, found: OrderInAccount, execution: ExecutionReport, now: datetime
    ) -> bool:
        """Book one execution into the loaded order and account; False (nothing written) if it was
        already booked or the domain refused it."""
        try:
            booked = self._book_in_memory(found, execution, now)
        except (OrderError, ValueError) as exc:
            if not await uow.session.scalar(select(FillRow.id).where(FillRow.exec_id == execution.exec_id)):
                log.error("fill %s for order %s refused by the domain: %s", execution.exec_id, found.order.id, exc)
            return False
        if not await insert_fills(uow, [booked.values]):
            return False  # already booked: the exchange retried after a lost answer
        await save_order(uow, found.order)
        await save_account(uow, found.loaded, now)
        await self._fill_event(uow, found, booked, now)
        return True

    def _book_in_memory(self, found: OrderInAccount, execution: ExecutionReport, now: datetime) -> _Booked:
        """The fill of one execution, booked into the loaded order and account in memory only (the domain's
        arithmetic: fees, funds, position); raises the domain's OrderError or ValueError if it refuses it."""
        order, account = found.order, found.loaded.account
        price, quantity = execution.last_px, execution.last_qty
        assert price is not None, "a TRADE report carries its price"
        instrument = self.instruments[order.symbol]
        rate = settlement_rate(instrument.board, order.side)  # 1 unless the trade is in HKD (Stock Connect)
        fees = in_cny(account.fees_for_fill(order, price, quantity, fee_basis(instrument)), rate)
        fill = OrderFilled(
            order_id=order.id,
            ts=now,
            fill_id=new_id("fil"),
            price=price,
            quantity=quantity,
            fees=fees,
            liquidity=execution.liquidity,
            settlement_rate=rate,
        )
        fill = account.complete_fill(order, fill)  # the account type's arithmetic (futures: fee, margin)
        account.book_fill(order, fill, t_plus=instrument.t_plus, cash_days=instrument.rules.cash_days)
        values = fill_values(fill, exec_id=execution.exec_id, order=order, now=now)
        return _Booked(FillView.of(fill, exec_id=execution.exec_id, symbol=order.symbol, side=order.side), values)

    @staticmethod
    async def _fill_event(uow: UnitOfWork, found: OrderInAccount, booked: _Booked, now: datetime) -> None:
        row, order = found.loaded.row, found.order
        await append_event(uow, row, AccountEventKind.FILL, now=now, order=order, fill=booked.view)

    # -- an order's end without a fill ------------------------------------------------------------------

    async def _book_canceled(self, order_id: str, quantity: int, reason: str) -> None:
        """The rest of an order left the book: release what it held, CANCELED event."""
        await self._close(
            order_id,
            lambda order, now: OrderCanceled(order_id=order.id, ts=now, canceled_quantity=quantity, reason=reason),
            reason,
        )

    async def _book_expired(self, order_id: str, quantity: int) -> None:
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
        now = self.clock.now()
        async with self.db.transaction(precedence=True) as uow:
            found = await order_and_account(uow, order_id, now)
            if found is None:
                return
            order = found.order
            if not order.status.is_working:
                return  # already finished (e.g. its cancel or its last fill was booked first)
            if expected_left is not None and expected_left != order.leaves_qty:
                log.warning(
                    "%s of %s reports %d left, the order has %d", reason, order_id, expected_left, order.leaves_qty
                )
            event = make_event(order, now)
            try:
                found.loaded.account.close_order(order, event)
            except (OrderError, ValueError) as exc:
                log.error("%s of %s refused by the domain: %s", event.kind, order_id, exc)
                return
            await save_order(uow, order)
            await save_account(uow, found.loaded, now)
            kind = AccountEventKind(event.kind.value)
            await append_event(uow, found.loaded.row, kind, now=now, order=order, reason=reason)

    async def _book_cancel_rejected(self, order_id: str, reason: str) -> None:
        """The exchange refused a cancel (the fill won the race): CANCEL_REJECTED with TOO_LATE_TO_CANCEL."""
        now = self.clock.now()
        async with self.db.transaction(precedence=True) as uow:
            found = await order_and_account(uow, order_id, now)
            if found is None:
                return
            order = found.order
            if order.status is not OrderStatus.PENDING_CANCEL and order.status is not OrderStatus.FILLED:
                return
            event = OrderCancelRejected(order_id=order.id, ts=now, reason=reason)
            order.apply(event)
            await save_order(uow, order)
            kind = AccountEventKind.CANCEL_REJECTED
            await append_event(uow, found.loaded.row, kind, now=now, order=order, code=event.code, reason=reason)
