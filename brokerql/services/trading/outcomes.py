"""What the trading use cases answer: the orders as the domain sees them (`OrderView`), or rejections."""

from __future__ import annotations

from dataclasses import dataclass, field

from brokerql.domain.common import Rejection
from brokerql.domain.trading.messages import OrderView


@dataclass
class PlaceOutcome:
    """The accepted (or idempotently repeated) order, or the rejections."""

    order: OrderView | None = None
    errors: list[Rejection] = field(default_factory=list)


@dataclass
class CancelOutcome:
    """The orders a cancel covered (as last seen) and why any were not, or could not be, cancelled."""

    orders: list[OrderView] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)
