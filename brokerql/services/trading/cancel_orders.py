"""cancelOrders (D3): mark the chosen orders PENDING_CANCEL, ask the exchange, and briefly wait for its answer.

The request commits first (CANCEL_REQUESTED events, exchange commands through the outbox). The service
subscribes to the account's events *before* that commit, so no answer can slip past, then waits up to
`wait_seconds` for every chosen order to leave PENDING_CANCEL and re-reads the orders: a client sees
CANCELED when the exchange confirmed in time, PENDING_CANCEL otherwise (the event stream brings the
rest), and TOO_LATE_TO_CANCEL for an order whose fill won the race. A preview (dry run) only reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from brokerql.bus import Bus, Resync, SlowConsumer, Subscription
from brokerql.bus.topics import COMMANDS_TOPIC, account_topic
from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.trading.cancels import select_orders_to_cancel
from brokerql.domain.trading.commands import CancelOrders
from brokerql.domain.trading.gateway import CancelOrder
from brokerql.domain.trading.messages import AccountEvent, AccountEventKind, OrderView
from brokerql.domain.trading.orders import Order, OrderCancelRequested, OrderStatus
from brokerql.domain.trading.products import session_refusal
from brokerql.services.trading.accounts import open_account
from brokerql.services.trading.outcomes import CancelOutcome
from brokerql.store.account_events import append_event
from brokerql.store.database import Database
from brokerql.store.orders import order_from_row, order_to_row
from brokerql.store.tables import AccountRow, OrderRow

_ANSWERS = frozenset({AccountEventKind.CANCELED, AccountEventKind.CANCEL_REJECTED, AccountEventKind.EXPIRED})
_WORKING = [s.value for s in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)]
_NO_ACCOUNT = Rejection("NOT_FOUND", "No such account.", "accountId")


class CancelOrdersService:
    """Select the orders a cancel covers (the domain's `select_orders_to_cancel`) and pull them, or preview."""

    def __init__(self, db: Database, bus: Bus | None, clock: Clock, *, wait_seconds: float = 2.0) -> None:
        self.db, self.bus, self.clock, self.wait_seconds = db, bus, clock, wait_seconds

    async def preview(self, client_id: str, command: CancelOrders) -> CancelOutcome:
        """The orders `command` would cancel now, from one read snapshot: nothing is written or locked."""
        async with self.db.read() as session:
            account = await session.get(AccountRow, command.account_id)
            if account is None or account.client_id != client_id:
                return CancelOutcome(errors=[_NO_ACCOUNT])
            chosen, errors = _select(await _candidates(session, account.id, command.order_ids), command)
        return CancelOutcome([OrderView.of(o) for o in chosen], errors)

    async def cancel(
        self, client_id: str, command: CancelOrders, *, session_account_type: str | None = None
    ) -> CancelOutcome:
        """`session_account_type`: the type the caller's session acts for; cancels on another type's
        account are refused like orders (None: a caller without a session)."""
        subscription: Subscription | None = None
        if self.bus is not None and self.wait_seconds > 0:
            subscription = await self.bus.subscribe([account_topic(command.account_id)])
        try:
            outcome = await self._request(client_id, command, session_account_type)
            if subscription is None or not outcome.orders:
                return outcome
            await self._await_answers(subscription, {o.id for o in outcome.orders})
        finally:
            if subscription is not None:
                await subscription.close()
        return await self._settled(outcome)

    async def _request(self, client_id: str, command: CancelOrders, session_account_type: str | None) -> CancelOutcome:
        now = self.clock.now()
        async with self.db.transaction() as uow:
            loaded = await open_account(uow, command.account_id, now, ())
            if loaded is None or loaded.row.client_id != client_id:
                return CancelOutcome(errors=[_NO_ACCOUNT])
            refused = session_refusal(session_account_type, loaded.account.type)
            if refused is not None:
                return CancelOutcome(errors=[refused])
            candidates = await _candidates(uow.session, loaded.row.id, command.order_ids)
            rows = {r.id: r for r in candidates}
            chosen, errors = _select(candidates, command)
            for order in chosen:
                order.apply(OrderCancelRequested(order_id=order.id, ts=now))
                order_to_row(order, rows[order.id])
                await append_event(uow, loaded.row, AccountEventKind.CANCEL_REQUESTED, now=now, order=order)
                uow.emit(COMMANDS_TOPIC, CancelOrder(order_id=order.id, symbol=order.symbol))
        return CancelOutcome([OrderView.of(o) for o in chosen], errors)

    async def _await_answers(self, subscription: Subscription, pending: set[str]) -> None:
        """Wait until none of `pending` is PENDING_CANCEL any more, or the time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
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
        ids = [o.id for o in outcome.orders]
        async with self.db.read() as session:
            rows = {r.id: r for r in (await session.scalars(select(OrderRow).where(OrderRow.id.in_(ids)))).all()}
        orders: list[OrderView] = []
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
                orders.append(OrderView.of(order_from_row(row)))
        return CancelOutcome(orders, errors)


def _select(candidates: Sequence[OrderRow], command: CancelOrders) -> tuple[list[Order], list[Rejection]]:
    return select_orders_to_cancel(
        [order_from_row(r) for r in candidates],
        command.scope,
        order_ids=list(command.order_ids) or None,
        symbol=command.symbol,
        side=command.side,
        condition=command.condition,
    )


async def _candidates(session: AsyncSession, account_id: str, named: Sequence[str]) -> list[OrderRow]:
    """Working orders, plus any named ones (finished ones give a precise TOO_LATE_TO_CANCEL)."""
    condition = OrderRow.status.in_(_WORKING)
    if named:
        condition = or_(condition, OrderRow.id.in_(named))
    query = select(OrderRow).where(OrderRow.account_id == account_id, condition).order_by(OrderRow.id)
    return list((await session.scalars(query)).all())
