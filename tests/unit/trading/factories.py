"""Builders for trading tests: orders in any state and a valid event of each kind."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading import (
    EventKind,
    Fees,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatus,
)

T0 = datetime(2026, 3, 2, 9, 30)


def at(seconds: int) -> datetime:
    """A time `seconds` after the open."""
    return T0 + timedelta(seconds=seconds)


def make_order(
    status: OrderStatus = OrderStatus.PENDING_NEW,
    *,
    id: str = "o1",
    side: Side = Side.BUY,
    price: str | None = "10.00",
    quantity: int = 400,
    symbol: str = "600000",
    account_id: str = "a1",
    cum_qty: int = 0,
    created: int = 0,
) -> Order:
    """An order already in `status` (PARTIALLY_FILLED defaults to 100 filled)."""
    if status is OrderStatus.PARTIALLY_FILLED and cum_qty == 0:
        cum_qty = 100
    px = None if price is None else Decimal(price)
    leaves = 0 if status.is_terminal else quantity - cum_qty
    return Order(
        id=id,
        account_id=account_id,
        symbol=symbol,
        side=side,
        type=OrderType.MARKET if px is None else OrderType.LIMIT,
        price=px,
        quantity=quantity,
        created_at=at(created),
        updated_at=at(created),
        status=status,
        cum_qty=cum_qty,
        leaves_qty=leaves,
        notional=(px or Decimal("10")) * cum_qty,
    )


def make_event(kind: EventKind, order: Order, *, quantity: int | None = None, price: str = "10.00"):
    """A valid event of `kind` for `order` (fills take `quantity`, default 100)."""
    base = {"order_id": order.id, "ts": at(60)}
    match kind:
        case EventKind.ACCEPTED:
            return OrderAccepted(**base)
        case EventKind.REJECTED:
            return OrderRejected(**base, code="INSUFFICIENT_FUNDS")
        case EventKind.FILL:
            return OrderFilled(
                **base, fill_id="f1", price=Decimal(price), quantity=quantity or 100, fees=Fees(Decimal("5"))
            )
        case EventKind.CANCEL_REQUESTED:
            return OrderCancelRequested(**base)
        case EventKind.CANCELED:
            return OrderCanceled(**base, canceled_quantity=order.leaves_qty)
        case EventKind.CANCEL_REJECTED:
            return OrderCancelRejected(**base)
        case EventKind.EXPIRED:
            return OrderExpired(**base)
    raise AssertionError(kind)
