"""The trading use cases: one service each, built with exactly what it needs.

Every change runs in one transaction that also appends the account's next event (gapless seq) and
puts it in the outbox, so "acknowledged" always means "durable", and subscribers see exactly the
committed history.
"""

from __future__ import annotations

from dataclasses import dataclass

from brokerql.domain.clock import Clock
from brokerql.domain.market.instruments import Instrument
from brokerql.services.trading.basket_runs import BasketRunService
from brokerql.services.trading.baskets import BasketService
from brokerql.services.trading.booking import ExecutionBooking
from brokerql.services.trading.cancel_orders import CancelOrdersService
from brokerql.services.trading.outcomes import CancelOutcome, PlaceOutcome
from brokerql.services.trading.paired import PairedOrderService
from brokerql.services.trading.parked_orders import ParkedOrdersService, ParkedOutcome
from brokerql.services.trading.parked_watch import ParkedTriggerWatch
from brokerql.services.trading.place_order import PlaceOrderService
from brokerql.services.trading.preferences import PreferencesOutcome, PreferencesService
from brokerql.store.database import Database


@dataclass(frozen=True, slots=True)
class TradingServices:
    """The trading use cases of one process (`container.trading`)."""

    place: PlaceOrderService
    cancel: CancelOrdersService
    booking: ExecutionBooking  # the ExecutionBooker the exchange reports to
    preferences: PreferencesService
    baskets: BasketService
    basket_runs: BasketRunService
    pairs: PairedOrderService

    @classmethod
    def build(
        cls,
        db: Database,
        instruments: dict[str, Instrument],
        clock: Clock,
        *,
        place: PlaceOrderService,
        cancel: CancelOrdersService,
        booking: ExecutionBooking,
    ) -> TradingServices:
        """The use cases around the placement and cancel services (which every order goes through)."""
        baskets = BasketService(db, instruments, clock)
        return cls(
            place=place,
            cancel=cancel,
            booking=booking,
            preferences=PreferencesService(db, clock),
            baskets=baskets,
            basket_runs=BasketRunService(db, instruments, baskets, place, cancel, clock),
            pairs=PairedOrderService(place),
        )


__all__ = [
    "BasketRunService",
    "BasketService",
    "CancelOrdersService",
    "CancelOutcome",
    "ExecutionBooking",
    "PairedOrderService",
    "ParkedOrdersService",
    "ParkedOutcome",
    "ParkedTriggerWatch",
    "PlaceOrderService",
    "PlaceOutcome",
    "PreferencesOutcome",
    "PreferencesService",
    "TradingServices",
]
