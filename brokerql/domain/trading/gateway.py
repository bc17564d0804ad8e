"""What the trading core says to whatever executes orders, and what it hears back.

The trading services send `SubmitOrder` and `CancelOrder`; the execution venue (the simulated exchange
today, a FIX session later) answers with `ExecutionReport`s. The shapes follow FIX: an execution report
has an ExecType (TRADE, CANCELED, EXPIRED) or is the answer to a refused cancel (OrderCancelReject), and
its `exec_id` is stable: derived from the order and the execution's place in the venue's sequence, so
the same execution reported twice (after a restart or a takeover) is booked once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from brokerql.domain.common import OrderType, Side, TimeInForce
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


class ExecutionVenue(Protocol):
    """The seam between the trading core and whatever executes orders (the simulated exchange, a FIX session).

    The trading services never call a venue directly: they put commands in the outbox in the transaction
    that accepted the order, and the host of the venue feeds them to `submit`/`cancel` in order. The venue
    answers with execution reports, which the host makes durable before they are booked.
    """

    async def submit(self, command: SubmitOrder) -> None: ...

    async def cancel(self, command: CancelOrder) -> None: ...

    def reports(self) -> AsyncIterator[Sequence[ExecutionReport]]:
        """Batches of reports in the venue's order (a batch: consecutive reports of one order)."""
        ...
