"""Value types shared by the matching engine, its reference oracle and the quote builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from brokerql.domain.common import OrderType, Side, TimeInForce, to_decimal


@dataclass(frozen=True, slots=True)
class Execution:
    """One trade: always at the resting (maker) order's price; `seq` increases by one per book."""

    symbol: str
    price: Decimal
    quantity: int
    maker_order_id: str
    taker_order_id: str
    taker_side: Side
    seq: int


class MatchStatus(StrEnum):
    """Where the submitted order stands after matching (FIX OrdStatus meanings).

    CANCELED covers an IOC/FOK/market remainder that was cancelled even when part of it filled:
    check `filled_quantity` to tell the two apart.
    """

    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Outcome of one submit: submitted = filled + resting + canceled, always."""

    order_id: str
    quantity: int
    executions: list[Execution] = field(default_factory=list)
    resting_quantity: int = 0
    canceled_quantity: int = 0

    @property
    def filled_quantity(self) -> int:
        """Quantity traded by this submit."""
        return sum(e.quantity for e in self.executions)

    @property
    def status(self) -> MatchStatus:
        """Status hint for the order state machine."""
        if self.canceled_quantity:
            return MatchStatus.CANCELED
        if self.resting_quantity == 0:
            return MatchStatus.FILLED
        return MatchStatus.PARTIALLY_FILLED if self.executions else MatchStatus.NEW

    @property
    def average_price(self) -> Decimal | None:
        """Volume-weighted fill price, None when nothing traded."""
        filled = self.filled_quantity
        if not filled:
            return None
        return sum((e.price * e.quantity for e in self.executions), Decimal(0)) / filled


class RestingOrder(NamedTuple):
    """A resting order as the book sees it."""

    order_id: str
    side: Side
    price: Decimal
    remaining: int


class DepthLevel(NamedTuple):
    """One price level: total resting quantity and how many orders make it up."""

    price: Decimal
    quantity: int
    orders: int


class Depth(NamedTuple):
    """Best-first price levels of each side."""

    bids: tuple[DepthLevel, ...]
    asks: tuple[DepthLevel, ...]


def normalize_submit(
    side: Side | str,
    order_type: OrderType | str,
    quantity: int,
    price: Decimal | None,
    tif: TimeInForce | str,
) -> tuple[Side, Decimal | None, TimeInForce]:
    """Coerce a submit's arguments; returns (side, limit price or None for market, time in force).

    Raises ValueError on what the board rules should already have rejected: this is a programming
    error at this layer, not a business rejection.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValueError(f"quantity must be a positive int, got {quantity!r}")
    limit = None
    if OrderType(order_type) is OrderType.LIMIT:
        if price is None or to_decimal(price) <= 0:
            raise ValueError("a limit order needs a positive price")
        limit = to_decimal(price)
    return Side(side), limit, TimeInForce(tif)
