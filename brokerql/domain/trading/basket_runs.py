"""Basket runs (C4): what a submitted basket becomes, read from its legs' orders. Pure, no I/O.

A run's status and completion (per leg and in total, quantity and value) are computed from the
orders that carry its id (`run_progress`), so they cannot drift from what the orders say; what a run
allows next is a literal table (`RUN_ACTIONS`), like the order transition table. A top-up resubmits
each stopped leg's remainder, rounded down to its lot (`top_up_quantities`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import Rejection
from brokerql.domain.trading.baskets import LotRule
from brokerql.domain.trading.orders import OrderStatus

ZERO = Decimal(0)


class RunStatus(StrEnum):
    """Where a basket run stands, read from its legs' orders."""

    WORKING = "WORKING"  # at least one leg has an order on the book
    FILLED = "FILLED"  # every leg traded its full quantity
    STOPPED = "STOPPED"  # nothing working, something unfilled (cancelled, expired): a top-up may resume it


class RunAction(StrEnum):
    CANCEL = "CANCEL"
    TOP_UP = "TOP_UP"


# What a client may do with a run in each status. A top-up of a WORKING run resubmits only the legs
# that have stopped (a working leg's remainder is still on the book).
RUN_ACTIONS: dict[RunStatus, frozenset[RunAction]] = {
    RunStatus.WORKING: frozenset({RunAction.CANCEL, RunAction.TOP_UP}),
    RunStatus.STOPPED: frozenset({RunAction.TOP_UP}),
    RunStatus.FILLED: frozenset(),
}


def refuse_action(status: RunStatus, action: RunAction) -> Rejection | None:
    """RUN_FINISHED / NOTHING_WORKING when the table does not allow `action` now."""
    if action in RUN_ACTIONS[status]:
        return None
    if status is RunStatus.FILLED:
        return Rejection("RUN_FILLED", "Every leg of this run has filled.", "id")
    return Rejection("NOTHING_WORKING", "No leg of this run is working.", "id")


@dataclass(frozen=True, slots=True)
class LegOrder:
    """What a run needs to know of one of its orders."""

    id: str
    symbol: str
    status: OrderStatus
    quantity: int
    cum_qty: int
    leaves_qty: int
    notional: Decimal
    created_at: datetime  # a leg's orders are listed in placing order (the id breaks ties)


@dataclass(frozen=True, slots=True)
class RunLegTarget:
    """A leg as submitted: its symbol, target quantity and the price it was sized at."""

    symbol: str
    quantity: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class LegProgress:
    symbol: str
    quantity: int
    price: Decimal
    filled_quantity: int
    filled_value: Decimal
    working_quantity: int
    orders: tuple[LegOrder, ...]

    @property
    def remainder(self) -> int:
        """Shares neither filled nor still on the book: what a top-up would resubmit."""
        return max(0, self.quantity - self.filled_quantity - self.working_quantity)

    @property
    def latest(self) -> LegOrder | None:
        return self.orders[-1] if self.orders else None


@dataclass(frozen=True, slots=True)
class RunProgress:
    status: RunStatus
    legs: tuple[LegProgress, ...]

    @property
    def quantity(self) -> int:
        return sum(leg.quantity for leg in self.legs)

    @property
    def filled_quantity(self) -> int:
        return sum(min(leg.filled_quantity, leg.quantity) for leg in self.legs)

    @property
    def value(self) -> Decimal:
        """The run's value at the prices it was sized at."""
        return sum((leg.price * leg.quantity for leg in self.legs), ZERO)

    @property
    def filled_value(self) -> Decimal:
        return sum((leg.filled_value for leg in self.legs), ZERO)

    @property
    def filled_ratio(self) -> Decimal:
        """Filled shares over target shares, 0..1."""
        return Decimal(self.filled_quantity) / self.quantity if self.quantity else ZERO

    @property
    def value_ratio(self) -> Decimal:
        """Traded value over the run's value at its sizing prices (buys filled below their limit stay under 1)."""
        return self.filled_value / self.value if self.value else ZERO


def run_progress(targets: Sequence[RunLegTarget], orders: Sequence[LegOrder]) -> RunProgress:
    """Completion per leg and in total, and the run's status, from its legs' orders."""
    legs = []
    for target in targets:
        mine = tuple(sorted((o for o in orders if o.symbol == target.symbol), key=lambda o: (o.created_at, o.id)))
        legs.append(
            LegProgress(
                symbol=target.symbol,
                quantity=target.quantity,
                price=target.price,
                filled_quantity=sum(o.cum_qty for o in mine),
                filled_value=sum((o.notional for o in mine), ZERO),
                working_quantity=sum(o.leaves_qty for o in mine if _on_the_book(o.status)),
                orders=mine,
            )
        )
    if any(leg.working_quantity for leg in legs):
        status = RunStatus.WORKING
    elif all(leg.filled_quantity >= leg.quantity for leg in legs):
        status = RunStatus.FILLED
    else:
        status = RunStatus.STOPPED
    return RunProgress(status, tuple(legs))


def _on_the_book(status: OrderStatus) -> bool:
    return status.is_working or status is OrderStatus.PENDING_NEW


def top_up_quantities(progress: RunProgress, lots: Mapping[str, LotRule]) -> dict[str, int]:
    """Each stopped leg's remainder, rounded down to its lot (a remainder under one lot stays unfilled:
    buying it would need an odd lot the exchange refuses)."""
    quantities = {leg.symbol: lots[leg.symbol].round_down(leg.remainder) for leg in progress.legs if leg.remainder}
    return {symbol: quantity for symbol, quantity in quantities.items() if quantity}
