"""What the trading use cases answer: the orders as the domain sees them (`OrderView`), each order's
admission where it was asked for, or rejections."""

from __future__ import annotations

from dataclasses import dataclass, field

from brokerql.domain.common import Rejection
from brokerql.domain.trading.messages import OrderView
from brokerql.services.trading.admission_records import Admission


@dataclass
class PlaceOutcome:
    """The accepted (or idempotently repeated) order, or the rejections."""

    order: OrderView | None = None
    errors: list[Rejection] = field(default_factory=list)


@dataclass
class BatchOutcome:
    """Orders admitted together: placed all (`orders`), or none, with each order's admission."""

    admissions: list[Admission] = field(default_factory=list)
    orders: list[OrderView] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)  # about the batch itself (e.g. NOT_FOUND)

    @property
    def placed(self) -> bool:
        return bool(self.orders)


@dataclass
class PreviewOutcome:
    """What placing would say, from the account as it stands now; nothing was written."""

    admissions: list[Admission] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)  # about the request itself (e.g. NOT_FOUND)
    # A single order whose clientOrderId was used before: what placing would answer instead of a new order
    # (the order placed then, for the same request; or DUPLICATE_CLIENT_ORDER_ID, for a different one).
    repeated: PlaceOutcome | None = None


@dataclass
class CancelOutcome:
    """The orders a cancel covered (as last seen) and why any were not, or could not be, cancelled."""

    orders: list[OrderView] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)
