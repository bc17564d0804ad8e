"""cancelOrders (D3): mark the chosen orders PENDING_CANCEL, ask the exchange, and briefly wait for its answer.

The request commits first (CANCEL_REQUESTED events, exchange commands through the outbox). The service
subscribes to the account's events *before* that commit, so no answer can slip past, then waits up to
`cancel_wait_seconds` for every chosen order to leave PENDING_CANCEL and re-reads the orders: a client
sees CANCELED when the exchange confirmed in time, PENDING_CANCEL otherwise (the event stream brings
the rest), and TOO_LATE_TO_CANCEL for an order whose fill won the race.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import or_, select

from brokerql.bus import Resync, SlowConsumer, Subscription
from brokerql.bus.topics import COMMANDS_TOPIC, account_topic
from brokerql.domain.common import Rejection
from brokerql.domain.trading.cancels import select_orders_to_cancel
from brokerql.domain.trading.gateway import CancelOrder
from brokerql.domain.trading.messages import AccountEvent, AccountEventKind
from brokerql.domain.trading.orders import OrderCancelRequested, OrderStatus
from brokerql.services.trading.base import TradingBase
from brokerql.services.trading.requests import CancelOutcome, CancelRequest
from brokerql.store.accounts import append_event, order_from_row, order_to_row
from brokerql.store.columns import utcnow
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import OrderRow

_ANSWERS = frozenset({AccountEventKind.CANCELED, AccountEventKind.CANCEL_REJECTED, AccountEventKind.EXPIRED})
_WORKING = [s.value for s in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)]


class Cancelling(TradingBase):
    async def cancel_orders(self, client_id: str, request: CancelRequest) -> CancelOutcome:
        """Select the orders a cancel covers (D3) and, unless it is a dry run, ask the exchange to pull them."""
        subscription: Subscription | None = None
        if not request.dry_run and self.bus is not None and self.cancel_wait_seconds > 0:
            subscription = await self.bus.subscribe([account_topic(request.account_id)])
        try:
            outcome = await self._request_cancels(client_id, request)
            if subscription is None or request.dry_run or not outcome.orders:
                return outcome
            await self._await_answers(subscription, {r.id for r in outcome.orders})
        finally:
            if subscription is not None:
                await subscription.close()
        return await self._settled(outcome)

    async def _request_cancels(self, client_id: str, request: CancelRequest) -> CancelOutcome:
        now = utcnow()
        async with self.db.transaction() as uow:
            opened = await self.open_account(uow, request.account_id, now, ())
            if opened is None or opened[0].client_id != client_id:
                return CancelOutcome(errors=[Rejection("NOT_FOUND", "No such account.", "accountId")])
            row, _account = opened
            candidates = await self._cancel_candidates(uow, row.id, request.order_ids)
            chosen, errors = select_orders_to_cancel(
                [order_from_row(r) for r in candidates],
                request.scope,
                order_ids=request.order_ids,
                symbol=request.symbol,
                side=request.side,
                condition=request.condition,
            )
            rows = {r.id: r for r in candidates}
            if request.dry_run:
                return CancelOutcome([rows[o.id] for o in chosen], errors)
            for order in chosen:
                order.apply(OrderCancelRequested(order_id=order.id, ts=now))
                order_to_row(order, rows[order.id])
                await append_event(uow, row, AccountEventKind.CANCEL_REQUESTED, now=now, order=order)
                uow.emit(COMMANDS_TOPIC, CancelOrder(order_id=order.id, symbol=order.symbol))
        return CancelOutcome([rows[o.id] for o in chosen], errors)

    async def _await_answers(self, subscription: Subscription, pending: set[str]) -> None:
        """Wait until none of `pending` is PENDING_CANCEL any more, or the time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.cancel_wait_seconds
        while pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                item = await subscription.get(timeout=remaining)
            except (SlowConsumer, Resync):
                return  # the re-read below tells the truth anyway
            if item is None:
                return
            event: AccountEvent = item[1]
            order = event.order
            if order is None or order.id not in pending:
                continue
            if event.kind in _ANSWERS or order.status is OrderStatus.FILLED:  # (an earlier ACCEPTED may be late)
                pending.discard(order.id)

    async def _settled(self, outcome: CancelOutcome) -> CancelOutcome:
        """Re-read the covered orders; a fill that won the race becomes TOO_LATE_TO_CANCEL."""
        ids = [r.id for r in outcome.orders]
        async with self.db.read() as session:
            rows = {r.id: r for r in (await session.scalars(select(OrderRow).where(OrderRow.id.in_(ids)))).all()}
        orders: list[OrderRow] = []
        errors = list(outcome.errors)
        for order_id in ids:
            row = rows.get(order_id)
            if row is None:  # pragma: no cover - orders are never deleted
                continue
            if row.status == OrderStatus.FILLED.value:
                errors.append(Rejection("TOO_LATE_TO_CANCEL", f"order {order_id} filled before the cancel", "orderIds"))
            elif row.status in (OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value):
                errors.append(Rejection("CANCEL_REJECTED", f"the exchange refused to cancel {order_id}", "orderIds"))
            else:
                orders.append(row)
        return CancelOutcome(orders, errors)

    @staticmethod
    async def _cancel_candidates(uow: UnitOfWork, account_id: str, named: list[str] | None) -> list[OrderRow]:
        """Working orders, plus any named ones (finished ones give a precise TOO_LATE_TO_CANCEL)."""
        condition = OrderRow.status.in_(_WORKING)
        if named:
            condition = or_(condition, OrderRow.id.in_(named))
        query = select(OrderRow).where(OrderRow.account_id == account_id, condition).order_by(OrderRow.id)
        return list((await uow.session.scalars(query)).all())


__all__ = ["Cancelling"]
