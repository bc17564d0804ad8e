"""Loading and saving the account aggregate and its orders; appending to the account's event log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.fees import FeeSchedule
from brokerql.domain.trading.ledger import Funds, Position
from brokerql.domain.trading.orders import Order, OrderStatus
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import AccountEventRow, AccountRow, OrderRow, PositionRow


def account_topic(account_id: str) -> str:
    return f"account.{account_id}"


def fee_schedule_of(row: AccountRow) -> FeeSchedule:
    overrides = {k: Decimal(v) for k, v in (row.fee_schedule or {}).items()}
    return FeeSchedule(**overrides) if overrides else FeeSchedule()


async def load_account(uow: UnitOfWork, account_id: str) -> tuple[AccountRow, Account] | None:
    """The account row (locked for this transaction) and its domain aggregate with all positions."""
    row = await uow.session.scalar(uow.lock(select(AccountRow).where(AccountRow.id == account_id)))
    if row is None:
        return None
    positions = (await uow.session.scalars(select(PositionRow).where(PositionRow.account_id == account_id))).all()
    account = Account(
        id=row.id,
        type=AccountType(row.type),
        funds=Funds(row.balance, row.available, row.frozen, row.unsettled),
        positions={
            p.symbol: Position(p.symbol, p.quantity, p.sellable_quantity, p.frozen_quantity, p.cost, p.bought_today)
            for p in positions
        },
        fee_schedule=fee_schedule_of(row),
        realised_pnl=row.realized_pnl,
    )
    return row, account


async def save_account(uow: UnitOfWork, row: AccountRow, account: Account, now: datetime) -> None:
    """Write the aggregate back: funds on the row, positions upserted, closed-out lines deleted."""
    row.balance, row.available = account.funds.balance, account.funds.available
    row.frozen, row.unsettled = account.funds.frozen, account.funds.unsettled
    row.realized_pnl = account.realised_pnl
    stored = {
        p.symbol: p
        for p in (await uow.session.scalars(select(PositionRow).where(PositionRow.account_id == row.id))).all()
    }
    for symbol, position in account.positions.items():
        target = stored.pop(symbol, None) or PositionRow(account_id=row.id, symbol=symbol)
        target.quantity, target.sellable_quantity = position.quantity, position.sellable_quantity
        target.frozen_quantity, target.bought_today = position.frozen_quantity, position.bought_today
        target.cost, target.updated_at = position.cost, now
        uow.session.add(target)
    for leftover in stored.values():
        await uow.session.delete(leftover)


def order_from_row(row: OrderRow) -> Order:
    return Order(
        id=row.id,
        account_id=row.account_id,
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.type),
        price=row.price,
        quantity=row.quantity,
        created_at=row.created_at,
        updated_at=row.updated_at,
        client_order_id=row.client_order_id,
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        cum_qty=row.cum_qty,
        leaves_qty=row.leaves_qty,
        notional=row.notional,
        fees_paid=row.fees_paid,
        frozen_cash=row.frozen_cash,
        reject_code=row.reject_code,
        reason=row.reject_reason,
    )


def order_to_row(order: Order, row: OrderRow | None = None) -> OrderRow:
    if row is None:
        row = OrderRow(
            id=order.id,
            account_id=order.account_id,
            symbol=order.symbol,
            quantity=order.quantity,
            side=order.side.value,
            type=order.type.value,
            status=order.status.value,
        )
    row.client_order_id, row.price, row.time_in_force = (
        order.client_order_id,
        order.price,
        order.time_in_force,
    )
    row.status, row.cum_qty, row.leaves_qty = order.status.value, order.cum_qty, order.leaves_qty
    row.notional, row.fees_paid, row.frozen_cash = order.notional, order.fees_paid, order.frozen_cash
    row.frozen_quantity = order.leaves_qty if order.side is Side.SELL and order.status.is_working else 0
    row.reject_code, row.reject_reason = order.reject_code, order.reason
    row.created_at, row.updated_at = order.created_at, order.updated_at
    return row


def order_snapshot(row: OrderRow) -> dict[str, Any]:
    """The order as carried in an event payload (strings for money, like the API)."""
    return {
        "id": row.id,
        "accountId": row.account_id,
        "clientOrderId": row.client_order_id,
        "symbol": row.symbol,
        "side": row.side,
        "type": row.type,
        "timeInForce": row.time_in_force,
        "price": None if row.price is None else str(row.price),
        "quantity": row.quantity,
        "status": row.status,
        "cumQty": row.cum_qty,
        "leavesQty": row.leaves_qty,
        "notional": str(row.notional),
        "feesPaid": str(row.fees_paid),
        "frozenCash": str(row.frozen_cash),
        "rejectCode": row.reject_code,
        "rejectReason": row.reject_reason,
        "createdAt": row.created_at.isoformat(),
        "updatedAt": row.updated_at.isoformat(),
    }


async def append_event(
    uow: UnitOfWork,
    account: AccountRow,
    kind: str,
    *,
    now: datetime,
    order: OrderRow | None = None,
    fill: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """Give the change the account's next seq, store it, and queue it for the bus (outbox)."""
    account.last_seq += 1
    payload: dict[str, Any] = {
        "accountId": account.id,
        "seq": account.last_seq,
        "kind": kind,
        "at": now.isoformat(),
        "order": order_snapshot(order) if order is not None else None,
        "fill": fill,
        **(extra or {}),
    }
    uow.session.add(
        AccountEventRow(
            account_id=account.id,
            seq=account.last_seq,
            kind=kind,
            order_id=order.id if order is not None else None,
            fill_id=fill["id"] if fill else None,
            payload=payload,
            created_at=now,
        )
    )
    uow.session.add(account)
    uow.emit(account_topic(account.id), payload)
    return account.last_seq
