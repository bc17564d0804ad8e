"""Order events: facts in the past tense; applying them is the only way an order changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from brokerql.domain.trading.fees import ZERO, Fees


class EventKind(StrEnum):
    """The `kind` of an order event as the public `orderEvents` stream names it."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    FILL = "FILL"
    CANCEL_REQUESTED = "CANCEL_REQUESTED"
    CANCELED = "CANCELED"
    CANCEL_REJECTED = "CANCEL_REJECTED"
    EXPIRED = "EXPIRED"


class Liquidity(StrEnum):
    """Whether a fill rested on the book (maker) or crossed it (taker), as FIX LastLiquidityInd."""

    MAKER = "MAKER"
    TAKER = "TAKER"


# kw_only: events have many same-typed fields; naming them at the call site prevents swaps.
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    """Base of every order event: which order, and when (passed in, never read from a clock)."""

    kind: ClassVar[EventKind]
    order_id: str
    ts: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(OrderEvent):
    """Risk checks passed and the cash (buys) or fee buffer (sells) was frozen for the order."""

    kind: ClassVar[EventKind] = EventKind.ACCEPTED
    frozen_cash: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(OrderEvent):
    """The order was refused before it reached the book, with a stable code (e.g. INSUFFICIENT_FUNDS)."""

    kind: ClassVar[EventKind] = EventKind.REJECTED
    code: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(OrderEvent):
    """One execution: `quantity` shares at `price`, with the fees it cost (FIX LastQty/LastPx)."""

    kind: ClassVar[EventKind] = EventKind.FILL
    fill_id: str
    price: Decimal
    quantity: int
    fees: Fees
    liquidity: Liquidity = Liquidity.TAKER
    # How much of the order's frozen cash this fill uses, when the account type decides it (futures:
    # margin + fee); None: the cash-account rule of `cash_movement_of_fill`.
    frozen_used: Decimal | None = None

    @property
    def notional(self) -> Decimal:
        """Exact traded value, price x quantity."""
        return self.price * self.quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelRequested(OrderEvent):
    """The client asked to cancel; the exchange has not answered yet."""

    kind: ClassVar[EventKind] = EventKind.CANCEL_REQUESTED


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCanceled(OrderEvent):
    """The rest of the order left the book; A-share cancels always take the whole remainder."""

    kind: ClassVar[EventKind] = EventKind.CANCELED
    canceled_quantity: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelRejected(OrderEvent):
    """The exchange refused a cancel, e.g. TOO_LATE_TO_CANCEL when the order had just filled."""

    kind: ClassVar[EventKind] = EventKind.CANCEL_REJECTED
    code: str = "TOO_LATE_TO_CANCEL"
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired(OrderEvent):
    """The order's time in force ran out (end of day for DAY orders) with quantity left."""

    kind: ClassVar[EventKind] = EventKind.EXPIRED


AnyOrderEvent = (
    OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCancelRequested
    | OrderCanceled
    | OrderCancelRejected
    | OrderExpired
)
