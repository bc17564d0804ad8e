"""Commands: what a client asks the trading core to do, named as verbs (the services handle them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.cancels import CancelCondition, CancelScope
from brokerql.domain.trading.preferences import TradingPreferences
from brokerql.domain.trading.price_levels import PriceLevel


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrder:
    """Place one order; `price_level` prices it from the book instead of `price` (flash order)."""

    account_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: int
    price: Decimal | None = None
    price_level: PriceLevel | None = None
    client_order_id: str | None = None
    time_in_force: TimeInForce = TimeInForce.DAY


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrders:
    """Cancel the account's orders that `scope` and its arguments pick (D3)."""

    account_id: str
    scope: CancelScope
    order_ids: tuple[str, ...] = ()
    symbol: str | None = None
    side: Side | None = None
    condition: CancelCondition | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdatePreferences:
    """Replace a client's trading preferences (D2), after `validate_preferences` accepts them."""

    client_id: str
    preferences: TradingPreferences
