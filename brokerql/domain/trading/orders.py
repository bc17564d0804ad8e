"""The order and its state machine: a literal transition table, and `Order.apply` to walk it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from brokerql.domain.common import OrderType, Rejection, Side, TimeInForce, to_decimal
from brokerql.domain.rounding import average
from brokerql.domain.trading.events import (
    AnyOrderEvent,
    EventKind,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from brokerql.domain.trading.fees import ZERO


class OrderStatus(StrEnum):
    """FIX OrdStatus: where an order is in its life."""

    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_working(self) -> bool:
        """On the book and able to trade (a pending cancel can still fill)."""
        return self in _WORKING

    @property
    def is_terminal(self) -> bool:
        """Finished for good: no event may change it any more (but a late cancel reject on FILLED)."""
        return self in _TERMINAL

    @property
    def is_cancelable(self) -> bool:
        """A cancel request may be sent now (not while one is already pending)."""
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


_WORKING = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL})
_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})

S, K = OrderStatus, EventKind
# Every legal (status, event kind) pair and where it leads; anything else is a bug upstream.
# Two quantity rules refine the target (see Order._settle_status): a fill that leaves nothing ends
# FILLED, and a NEW target with shares already filled reads PARTIALLY_FILLED.
TRANSITIONS: dict[tuple[OrderStatus, EventKind], OrderStatus] = {
    (S.PENDING_NEW, K.ACCEPTED): S.NEW,
    (S.PENDING_NEW, K.REJECTED): S.REJECTED,
    (S.NEW, K.FILL): S.PARTIALLY_FILLED,
    (S.NEW, K.CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.NEW, K.CANCELED): S.CANCELED,  # IOC remainder, or the exchange cancels unprompted
    (S.NEW, K.EXPIRED): S.EXPIRED,
    (S.PARTIALLY_FILLED, K.FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, K.CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, K.CANCELED): S.CANCELED,
    (S.PARTIALLY_FILLED, K.EXPIRED): S.EXPIRED,
    (S.PENDING_CANCEL, K.FILL): S.PENDING_CANCEL,  # FIX keeps PENDING_CANCEL until the cancel answer
    (S.PENDING_CANCEL, K.CANCELED): S.CANCELED,
    (S.PENDING_CANCEL, K.CANCEL_REJECTED): S.NEW,
    (S.PENDING_CANCEL, K.EXPIRED): S.EXPIRED,
    # The fill won the race against the cancel; the exchange's late answer changes nothing.
    (S.FILLED, K.CANCEL_REJECTED): S.FILLED,
}
del S, K


def average_price(notional: Decimal, cum_qty: int) -> Decimal | None:
    """Average fill price (FIX AvgPx) for display: notional / quantity (`rounding.average`); None unfilled."""
    if cum_qty == 0:
        return None
    return average(notional / cum_qty)


class OrderError(Exception):
    """An event that cannot apply to the order: a bug or a corrupt feed, never a client mistake."""


class InvalidTransition(OrderError):
    """The transition table has no entry for (status, event kind)."""

    def __init__(self, status: OrderStatus, kind: EventKind, detail: str = "") -> None:
        super().__init__(f"{kind} is not valid for an order in {status}{': ' + detail if detail else ''}")
        self.status = status
        self.kind = kind


class InvalidFill(OrderError):
    """A fill that would overfill the order, trade through its limit, or carry a bad quantity/price."""


def duplicate_client_order_id(client_order_id: str) -> Rejection:
    """The rejection for a reused clientOrderId whose fields differ from the first request."""
    return Rejection(
        "DUPLICATE_CLIENT_ORDER_ID",
        f"clientOrderId {client_order_id!r} was already used for a different order",
        "clientOrderId",
    )


def cash_movement_of_fill(order: Order, fill: OrderFilled) -> tuple[Decimal, Decimal, Decimal]:
    """How a fill moves the order's cash: (balance delta, frozen cash consumed, frozen cash refunded).

    Buys pay notional + fees out of the frozen cash; sells receive notional - fees and only touch the
    frozen fee buffer when fees exceed proceeds. When the fill finishes the order, what stays frozen
    is refunded. The account and the order both use this, so they cannot disagree.
    """
    sign = -1 if order.side is Side.BUY else 1
    delta = sign * fill.notional - fill.fees.total
    used = max(ZERO, -delta) if fill.frozen_used is None else fill.frozen_used
    consumed = min(order.frozen_cash, used)
    refund = order.frozen_cash - consumed if fill.quantity == order.leaves_qty else ZERO
    return delta, consumed, refund


class OrderPurpose(StrEnum):
    """What an order is for on a margin account (C7); NORMAL everywhere else. Credit orders are limit
    orders: their credit reservation is struck at the limit price (see domain/trading/margin.py)."""

    NORMAL = "NORMAL"  # cash account order, or a margin account's collateral buy/sell (担保品买卖)
    FINANCING_BUY = "FINANCING_BUY"  # 融资买入: bought with the broker's cash, a debt
    SHORT_SELL = "SHORT_SELL"  # 融券卖出: borrowed shares sold, a debt in shares
    SELL_TO_REPAY = "SELL_TO_REPAY"  # 卖券还款: the proceeds repay financing
    BUY_TO_RETURN = "BUY_TO_RETURN"  # 买券还券: the shares bought go back to the lender

    @property
    def takes_credit(self) -> bool:
        return self in (OrderPurpose.FINANCING_BUY, OrderPurpose.SHORT_SELL)


@dataclass(slots=True, eq=False)
class Order:
    """One client order (FIX CumQty/LeavesQty/AvgPx), changed only by `apply(event)`.

    `notional` is the exact traded value; `avg_px` derives from it and is rounded for display only.
    `frozen_cash` is what the account still holds frozen for this order.
    """

    id: str
    account_id: str
    symbol: str
    side: Side
    type: OrderType
    price: Decimal | None
    quantity: int
    created_at: datetime
    updated_at: datetime
    client_order_id: str | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    status: OrderStatus = OrderStatus.PENDING_NEW
    cum_qty: int = 0
    leaves_qty: int = -1  # -1: not given, becomes `quantity` (FIX: leaves = qty while pending new)
    notional: Decimal = ZERO
    fees_paid: Decimal = ZERO
    frozen_cash: Decimal = ZERO
    reject_code: str | None = None
    reason: str | None = None
    purpose: OrderPurpose = OrderPurpose.NORMAL
    basket_run_id: str | None = None  # the basket run (C4) this order is a leg of
    pair_id: str | None = None  # the paired buy/sell (对买对卖) this order is one side of

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError("quantity must be positive")
        if self.type is OrderType.LIMIT and (self.price is None or to_decimal(self.price) <= 0):
            raise ValueError("a limit order needs a positive price")
        if self.price is not None:
            self.price = to_decimal(self.price)
        if self.leaves_qty < 0:
            self.leaves_qty = self.quantity - self.cum_qty

    @property
    def avg_px(self) -> Decimal | None:
        """Average fill price for display, 4 decimals; None before the first fill."""
        return average_price(self.notional, self.cum_qty)

    @property
    def avg_px_exact(self) -> Decimal | None:
        """notional / cum_qty at full Decimal precision (use `notional` for money, not this)."""
        return None if self.cum_qty == 0 else self.notional / self.cum_qty

    def same_request(
        self,
        *,
        account_id: str,
        symbol: str,
        side: Side,
        type: OrderType,
        price: Decimal | None,
        quantity: int,
    ) -> bool:
        """True when a resubmission with this order's clientOrderId asks for the very same order.

        Same: answer with this order (idempotent retry). Different: DUPLICATE_CLIENT_ORDER_ID.
        """
        return (self.account_id, self.symbol, self.side, self.type, self.price, self.quantity) == (
            account_id,
            symbol,
            side,
            type,
            None if price is None else to_decimal(price),
            quantity,
        )

    def apply(self, event: AnyOrderEvent) -> None:
        """Apply one event; raise OrderError and leave the order untouched if it is not legal."""
        for name, value in self._changes(event).items():
            setattr(self, name, value)

    def check(self, event: AnyOrderEvent) -> None:
        """Raise OrderError if `event` could not be applied now; changes nothing."""
        self._changes(event)

    def _changes(self, event: AnyOrderEvent) -> dict[str, Any]:
        if event.order_id != self.id:
            raise OrderError(f"event for order {event.order_id} applied to order {self.id}")
        target = TRANSITIONS.get((self.status, event.kind))
        if target is None:
            raise InvalidTransition(self.status, event.kind)
        # Compute every change before assigning any: a raise must leave no half-applied order.
        changes: dict[str, Any] = {"updated_at": event.ts}
        match event:
            case OrderAccepted():
                changes["frozen_cash"] = event.frozen_cash
            case OrderRejected():
                changes.update(leaves_qty=0, reject_code=event.code, reason=event.reason, frozen_cash=ZERO)
            case OrderFilled():
                changes.update(self._fill_changes(event))
            case OrderCanceled():
                if event.canceled_quantity != self.leaves_qty:
                    raise InvalidTransition(
                        self.status, event.kind, f"cancels {event.canceled_quantity}, {self.leaves_qty} left"
                    )
                changes.update(leaves_qty=0, reason=event.reason, frozen_cash=ZERO)
            case OrderExpired():
                changes.update(leaves_qty=0, frozen_cash=ZERO)
            case OrderCancelRejected() | OrderCancelRequested():
                pass
        changes["status"] = self._settle_status(target, changes)
        return changes

    def _fill_changes(self, fill: OrderFilled) -> dict[str, Any]:
        if fill.quantity <= 0 or fill.price <= 0:
            raise InvalidFill(f"fill {fill.fill_id}: quantity and price must be positive")
        if fill.quantity > self.leaves_qty:
            raise InvalidFill(f"fill {fill.fill_id} of {fill.quantity} overfills: {self.leaves_qty} left")
        if self.price is not None and self.type is OrderType.LIMIT:
            through = fill.price > self.price if self.side is Side.BUY else fill.price < self.price
            if through:
                raise InvalidFill(f"fill {fill.fill_id} at {fill.price} trades through limit {self.price}")
        _, consumed, refund = cash_movement_of_fill(self, fill)
        return {
            "cum_qty": self.cum_qty + fill.quantity,
            "leaves_qty": self.leaves_qty - fill.quantity,
            "notional": self.notional + fill.notional,
            "fees_paid": self.fees_paid + fill.fees.total,
            "frozen_cash": self.frozen_cash - consumed - refund,
        }

    def _settle_status(self, target: OrderStatus, changes: dict[str, Any]) -> OrderStatus:
        """Refine the table's target with the quantities (the two rules noted above TRANSITIONS)."""
        leaves = changes.get("leaves_qty", self.leaves_qty)
        cum = changes.get("cum_qty", self.cum_qty)
        if "cum_qty" in changes and leaves == 0:
            return OrderStatus.FILLED
        if target is OrderStatus.NEW and cum > 0:
            return OrderStatus.PARTIALLY_FILLED
        return target
