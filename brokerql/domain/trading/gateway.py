"""What the trading core says to whatever executes orders, and what it hears back.

The trading services send `SubmitOrder` and `CancelOrder`; the execution venue (the simulated exchange
today, a FIX session later) answers with `ExecutionReport`s. The shapes follow FIX: an execution report
has an ExecType (TRADE, CANCELED, EXPIRED) or is the answer to a refused cancel (OrderCancelReject), and
its `exec_id` is stable: derived from the order and the execution's place in that order's sequence
(`<order_id>:<n>`; `<order_id>:C` canceled, `:E` expired, `:R<n>` cancel refused after n executions), so
the same execution reported twice (after a restart or a takeover) is journalled and booked once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from brokerql.domain.common import OrderType, Rejection, Side, TimeInForce
from brokerql.domain.trading.events import Liquidity


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitOrder:
    """Put an accepted client order on the venue's book (FIX NewOrderSingle)."""

    order_id: str
    account_id: str
    symbol: str
    side: Side
    type: OrderType
    price: Decimal | None
    quantity: int
    time_in_force: TimeInForce
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder:
    """Take the rest of a client order off the venue's book (FIX OrderCancelRequest)."""

    order_id: str
    symbol: str


GatewayCommand = SubmitOrder | CancelOrder


class ExecType(StrEnum):
    """What an execution report says happened (FIX ExecType; CANCEL_REJECTED is FIX's OrderCancelReject)."""

    TRADE = "TRADE"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    CANCEL_REJECTED = "CANCEL_REJECTED"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionReport:
    """One thing the venue did to one client order.

    TRADE: `last_qty` at `last_px`, with `liquidity`. CANCELED / EXPIRED: `last_qty` is the quantity that
    left the book. CANCEL_REJECTED: the order could not be canceled (it had filled), `last_qty` is 0.
    """

    exec_id: str
    order_id: str
    symbol: str
    exec_type: ExecType
    last_qty: int = 0
    last_px: Decimal | None = None
    liquidity: Liquidity = Liquidity.TAKER
    text: str = ""
    ts: datetime

    @property
    def is_trade(self) -> bool:
        return self.exec_type is ExecType.TRADE


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """A client order the venue must hold: a new one (from a SubmitOrder) or one restored from durable state."""

    order_id: str
    symbol: str
    side: Side
    type: OrderType
    price: Decimal | None
    leaves_qty: int
    time_in_force: TimeInForce
    cancel_requested: bool = False
    created_at: datetime | None = None  # when known (from the database): gives the order's trading day

    @classmethod
    def of(cls, command: SubmitOrder) -> WorkingOrder:
        return cls(
            order_id=command.order_id,
            symbol=command.symbol,
            side=command.side,
            type=command.type,
            price=command.price,
            leaves_qty=command.quantity,
            time_in_force=command.time_in_force,
            created_at=command.created_at,
        )


class ExecutionVenue(Protocol):
    """The seam between the trading core and whatever executes orders (the simulated exchange, a FIX session).

    The trading services never call a venue directly: they put commands in the outbox in the transaction
    that accepted the order, and the venue's host (`brokerql.exchange.host`) feeds them to `accept`/`cancel`
    in order, after checking the durable state (an order already finished is not accepted again). The
    venue's answers are collected with `take_reports`; the host makes them durable before they are booked.

    A venue is built fresh each time its host takes the lease and `restore`d from the durable state: the
    working orders, each with the number of executions it already had (so execution ids continue).
    """

    def knows(self, order_id: str) -> bool:
        """Whether the order is working on this venue now."""
        ...

    async def start(self) -> None:
        """Open the market (or the session with the counterparty)."""

    async def stop(self) -> None: ...

    async def accept(self, order: WorkingOrder, executions: int = 0) -> None:
        """Work a client order; `executions`: how many it already had (restored after a restart)."""

    async def cancel(self, command: CancelOrder) -> None: ...

    def take_reports(self) -> list[ExecutionReport]:
        """The reports produced since the last call, in the venue's order (an order's fills before its cancel)."""
        ...

    def on_reports(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Call `listener` when the venue's own activity (the market) produced reports to take."""


EXCHANGE_UNAVAILABLE = "EXCHANGE_UNAVAILABLE"


def refuse_without_venue(order_type: OrderType, venue_live: bool) -> Rejection | None:
    """With no live venue a LIMIT order is accepted and waits queued for one; a MARKET order is refused:
    it would execute at whatever price the market has when a venue comes back, which nobody asked for."""
    if venue_live or order_type is not OrderType.MARKET:
        return None
    return Rejection(
        EXCHANGE_UNAVAILABLE, "No exchange is live: MARKET orders are refused, LIMIT orders wait queued.", "type"
    )
