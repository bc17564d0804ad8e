"""D3 flexible cancel: which working orders a cancel request covers, with a reason for each miss."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import Rejection, Side
from brokerql.domain.trading.orders import Order, OrderStatus


class CancelScope(StrEnum):
    """How the client picks the orders to cancel."""

    ONE = "ONE"
    LAST = "LAST"
    SYMBOL = "SYMBOL"
    SELECTED = "SELECTED"
    CONDITION = "CONDITION"
    ALL = "ALL"


@dataclass(frozen=True, slots=True)
class CancelCondition:
    """Criteria that all have to hold; a price range only matches limit orders."""

    side: Side | None = None
    symbol: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    placed_before: datetime | None = None

    @property
    def is_empty(self) -> bool:
        """No criterion at all (it would match every order)."""
        return self == CancelCondition()

    def matches(self, order: Order) -> bool:
        """True when `order` meets every criterion given."""
        if self.side is not None and order.side is not self.side:
            return False
        if self.symbol is not None and order.symbol != self.symbol:
            return False
        if self.min_price is not None and (order.price is None or order.price < self.min_price):
            return False
        if self.max_price is not None and (order.price is None or order.price > self.max_price):
            return False
        return self.placed_before is None or order.created_at < self.placed_before


def _missing(field: str, scope: CancelScope) -> list[Rejection]:
    return [Rejection("MISSING_ARGUMENT", f"scope {scope} needs {field}", field)]


def _why_not(order: Order) -> Rejection:
    """Why a known order cannot be canceled now."""
    if order.status is OrderStatus.FILLED:
        return Rejection("TOO_LATE_TO_CANCEL", f"order {order.id} is already filled", "orderIds")
    if order.status is OrderStatus.PENDING_CANCEL:
        return Rejection("CANCEL_PENDING", f"order {order.id} is already being canceled", "orderIds")
    return Rejection("ORDER_NOT_WORKING", f"order {order.id} is {order.status}", "orderIds")


def select_orders_to_cancel(
    orders: Iterable[Order],
    scope: CancelScope,
    *,
    order_ids: Sequence[str] | None = None,
    symbol: str | None = None,
    side: Side | None = None,
    condition: CancelCondition | None = None,
) -> tuple[list[Order], list[Rejection]]:
    """Pick the orders a cancel request covers, oldest first, and say why any named one is not.

    `orders` are the account's orders, finished ones included: they turn an id into a precise
    TOO_LATE_TO_CANCEL / ORDER_NOT_WORKING instead of NOT_FOUND. `side` narrows every scope but
    the id-based ones ("cancel all buys"). Bulk scopes skip orders already pending cancel and may select none.
    """
    known = list(orders)
    by_id = {o.id: o for o in known}
    live = [o for o in known if o.status.is_cancelable and (side is None or o.side is side)]
    live.sort(key=lambda o: o.created_at)  # stable: equal times keep the caller's order
    match scope:
        case CancelScope.ONE | CancelScope.SELECTED:
            ids = list(dict.fromkeys(order_ids or ()))  # dedupe, keep order
            if not ids:
                return [], _missing("orderIds", scope)
            if scope is CancelScope.ONE and len(ids) > 1:
                return [], [Rejection("INVALID_ARGUMENT", "scope ONE takes exactly one order id", "orderIds")]
            return _by_ids(ids, by_id)
        case CancelScope.LAST:
            if not live:
                return [], [Rejection("NOT_FOUND", "no working order to cancel", None)]
            return [live[-1]], []
        case CancelScope.SYMBOL:
            if not symbol:
                return [], _missing("symbol", scope)
            return [o for o in live if o.symbol == symbol], []
        case CancelScope.CONDITION:
            if condition is None or condition.is_empty:
                # An empty condition would silently mean ALL; make the client say ALL.
                return [], _missing("condition", scope)
            low, high = condition.min_price, condition.max_price
            if low is not None and high is not None and low > high:
                return [], [Rejection("INVALID_ARGUMENT", "minPrice is above maxPrice", "condition")]
            return [o for o in live if condition.matches(o)], []
        case CancelScope.ALL:
            return live, []
    raise ValueError(f"unknown cancel scope {scope!r}")  # pragma: no cover - StrEnum is closed


def _by_ids(ids: list[str], by_id: dict[str, Order]) -> tuple[list[Order], list[Rejection]]:
    chosen: list[Order] = []
    rejections: list[Rejection] = []
    for order_id in ids:
        order = by_id.get(order_id)
        if order is None:
            rejections.append(Rejection("NOT_FOUND", f"no order {order_id} in this account", "orderIds"))
        elif order.status.is_cancelable:
            chosen.append(order)
        else:
            rejections.append(_why_not(order))
    return chosen, rejections
