"""Value types shared by the matching engine, its reference oracle and the quote builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from brokerql.domain.common import Side


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


class DepthLevel(NamedTuple):
    """One price level: total resting quantity and how many orders make it up."""

    price: Decimal
    quantity: int
    orders: int


class Depth(NamedTuple):
    """Best-first price levels of each side."""

    bids: tuple[DepthLevel, ...]
    asks: tuple[DepthLevel, ...]


def check_submit(order_type_is_limit: bool, quantity: int, price: Decimal | None) -> None:
    """Programming-error guard shared by both books: the board rules should have caught these."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValueError(f"quantity must be a positive int, got {quantity!r}")
    if order_type_is_limit and (price is None or price <= 0):
        raise ValueError("a limit order needs a positive price")
