"""Placing orders and booking what the exchange did with them: the one place orders and accounts change.

Every change runs in one transaction that also appends the account's next event (gapless seq) and
puts it in the outbox, so "acknowledged" always means "durable", and subscribers see exactly the
committed history. One module per use case; `TradingService` puts them together.
"""

from __future__ import annotations

from brokerql.services.trading.booking import Booking
from brokerql.services.trading.cancelling import Cancelling
from brokerql.services.trading.filling import Filling
from brokerql.services.trading.placing import Placing
from brokerql.services.trading.preferences import Preferences as _Preferences
from brokerql.services.trading.preferences import PreferencesChange, PreferencesOutcome
from brokerql.services.trading.requests import (
    CancelOutcome,
    CancelRequest,
    OrderRequest,
    PlaceOutcome,
    fee_basis,
)


class TradingService(Placing, Cancelling, Filling, Booking, _Preferences):
    """placeOrder, cancelOrders, preferences, and the ExecutionBooker the exchange reports to."""


__all__ = [
    "CancelOutcome",
    "CancelRequest",
    "OrderRequest",
    "PlaceOutcome",
    "PreferencesChange",
    "PreferencesOutcome",
    "TradingService",
    "fee_basis",
]
