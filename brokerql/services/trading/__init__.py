"""The trading use cases: one service each, built with exactly what it needs.

Every change runs in one transaction that also appends the account's next event (gapless seq) and
puts it in the outbox, so "acknowledged" always means "durable", and subscribers see exactly the
committed history.
"""

from __future__ import annotations

from dataclasses import dataclass

from brokerql.services.trading.booking import ExecutionBooking
from brokerql.services.trading.cancel_orders import CancelOrdersService
from brokerql.services.trading.outcomes import CancelOutcome, PlaceOutcome
from brokerql.services.trading.parked_orders import ParkedOrdersService, ParkedOutcome
from brokerql.services.trading.parked_watch import ParkedTriggerWatch
from brokerql.services.trading.place_order import PlaceOrderService
from brokerql.services.trading.preferences import PreferencesOutcome, PreferencesService


@dataclass(frozen=True, slots=True)
class TradingServices:
    """The trading use cases of one process (`container.trading`)."""

    place: PlaceOrderService
    cancel: CancelOrdersService
    booking: ExecutionBooking  # the ExecutionBooker the exchange reports to
    preferences: PreferencesService


__all__ = [
    "CancelOrdersService",
    "CancelOutcome",
    "ExecutionBooking",
    "ParkedOrdersService",
    "ParkedOutcome",
    "ParkedTriggerWatch",
    "PlaceOrderService",
    "PlaceOutcome",
    "PreferencesOutcome",
    "PreferencesService",
    "TradingServices",
]
