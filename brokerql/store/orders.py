"""Orders and fills as stored: the domain `Order` to and from its row, and the hot writes built once.

The placement inserts its orders and the booking updates an order with Core statements built once:
through the ORM, each was an object, its state and a flush (about three Core statements' worth of CPU,
measured in `docs/performance.md`). The ORM still serves the rarer paths (`order_to_row`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.fees import Fees
from brokerql.domain.trading.messages import FillView
from brokerql.domain.trading.orders import Order, OrderFilled, OrderPurpose, OrderStatus
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import FillRow, OrderRow

_ORDERS = OrderRow.__table__  # type: ignore[attr-defined]


def order_from_row(row: Any) -> Order:
    """The domain order of a stored row (an `OrderRow`, or a Core row of the `orders` columns)."""
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
        purpose=OrderPurpose(row.purpose),
        basket_run_id=row.basket_run_id,
        pair_id=row.pair_id,
    )


def order_state(order: Order) -> dict[str, Any]:
    """The columns an order's life changes (everything but what placing fixed)."""
    return {
        "client_order_id": order.client_order_id,
        "price": order.price,
        "time_in_force": order.time_in_force,
        "status": order.status.value,
        "cum_qty": order.cum_qty,
        "leaves_qty": order.leaves_qty,
        "notional": order.notional,
        "fees_paid": order.fees_paid,
        "frozen_cash": order.frozen_cash,
        # What a working sell holds of the position; the read side shows it per order.
        "frozen_quantity": order.leaves_qty if order.side is Side.SELL and order.status.is_working else 0,
        "reject_code": order.reject_code,
        "reject_reason": order.reason,
        "purpose": order.purpose.value,
        "basket_run_id": order.basket_run_id,
        "pair_id": order.pair_id,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def order_values(order: Order) -> dict[str, Any]:
    """Every column of the order's row."""
    fixed = {"id": order.id, "account_id": order.account_id, "symbol": order.symbol, "quantity": order.quantity}
    return fixed | {"side": order.side.value, "type": order.type.value} | order_state(order)


def order_to_row(order: Order, row: OrderRow | None = None) -> OrderRow:
    """The order as an ORM row (a new one, or `row` brought up to date), for the paths that use the ORM."""
    values = order_values(order)
    if row is None:
        return OrderRow(**values)
    for key, value in order_state(order).items():
        setattr(row, key, value)
    return row


_INSERT_ORDERS = insert(_ORDERS)
# What placing fixed; everything else is the order's state, written by `save_order`.
_FIXED = ("id", "account_id", "symbol", "quantity", "side", "type")
_UPDATE_ORDER = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"))
    .values({key: bindparam(key) for key in (c.key for c in _ORDERS.c) if key not in _FIXED})
)
_ORDER_BY_ID = select(*_ORDERS.c).where(_ORDERS.c.id == bindparam("order_id"))
_ORDERS_BY_ID = select(*_ORDERS.c).where(_ORDERS.c.id.in_(bindparam("order_ids", expanding=True)))


async def insert_orders(uow: UnitOfWork, orders: Sequence[Order]) -> None:
    """Store new orders (one statement; at once, so rows written later in the unit of work may refer to them)."""
    if orders:
        await uow.session.execute(_INSERT_ORDERS, [order_values(o) for o in orders])


async def save_order(uow: UnitOfWork, order: Order) -> None:
    """Write what changed in a stored order's life (status, quantities, money)."""
    await save_orders(uow, [order])


async def save_orders(uow: UnitOfWork, orders: Sequence[Order]) -> None:
    """As `save_order`, for several orders in one statement."""
    await uow.session.execute(_UPDATE_ORDER, [{"order_id": order.id} | order_state(order) for order in orders])


async def stored_order(uow: UnitOfWork, order_id: str) -> Order | None:
    """The stored order, read as columns (no ORM object to track)."""
    row = (await uow.session.execute(_ORDER_BY_ID, {"order_id": order_id})).first()
    return order_from_row(row) if row is not None else None


async def stored_orders(uow: UnitOfWork, order_ids: Sequence[str]) -> dict[str, Order]:
    """The stored orders of `order_ids` that exist, by id, read as columns in one statement."""
    rows = (await uow.session.execute(_ORDERS_BY_ID, {"order_ids": list(order_ids)})).all()
    return {row.id: order_from_row(row) for row in rows}


def fill_view_of_row(row: FillRow) -> FillView:
    """A stored fill as the read side sees it."""
    return FillView(
        id=row.id,
        exec_id=row.exec_id,
        order_id=row.order_id,
        symbol=row.symbol,
        side=Side(row.side),
        price=row.price,
        quantity=row.quantity,
        fees=Fees(row.commission, row.stamp_duty, row.transfer_fee),
        liquidity=None,
        at=row.created_at,
    )


# Built once per dialect (one per fill otherwise, with its cache key worked out again each time), on the
# table: the ORM's bulk INSERT path cost about 0.1 ms more a statement.
_FILLS = FillRow.__table__  # type: ignore[attr-defined]
_INSERT_FILLS = {
    sqlite: dialect_insert(_FILLS).on_conflict_do_nothing(index_elements=["exec_id"]).returning(_FILLS.c.id)
    for sqlite, dialect_insert in ((True, sqlite_insert), (False, pg_insert))
}


def fill_values(fill: OrderFilled, *, exec_id: str, order: Order, now: datetime) -> dict[str, Any]:
    """The stored row of a fill of `order` (the venue's `exec_id` makes booking it idempotent)."""
    return {
        "id": fill.fill_id, "exec_id": exec_id, "order_id": order.id, "account_id": order.account_id,
        "symbol": order.symbol, "side": order.side.value, "price": fill.price, "quantity": fill.quantity,
        "commission": fill.fees.commission, "stamp_duty": fill.fees.stamp_duty,
        "transfer_fee": fill.fees.transfer_fee, "created_at": now,
    }  # fmt: skip


async def insert_fills(uow: UnitOfWork, fills: Sequence[dict[str, Any]]) -> bool:
    """Store fills (their `fill_values`) unless their `exec_id` is booked already, in one INSERT ... ON
    CONFLICT DO NOTHING; True if every one was stored (False: one was a repeat, and the others were
    stored: roll the unit of work back unless it was the only one)."""
    result = await uow.session.execute(_INSERT_FILLS[uow.is_sqlite], list(fills))
    return len(result.all()) == len(fills)
