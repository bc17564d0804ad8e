"""Trading core (C3, D2, D3): orders and their state machine, fees, the account ledger, cancel
selection, quote price levels and client preferences. Pure: no I/O, no clock, Decimal money.
"""

from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.cancels import CancelCondition, CancelScope, select_orders_to_cancel
from brokerql.domain.trading.commands import CancelOrders, PlaceOrder, UpdatePreferences
from brokerql.domain.trading.events import (
    AnyOrderEvent,
    EventKind,
    Liquidity,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from brokerql.domain.trading.fees import (
    A_SHARE,
    DEFAULT_SCHEDULE,
    FeeBasis,
    Fees,
    FeeSchedule,
    estimate_buy_freeze,
    sell_fee_buffer,
)
from brokerql.domain.trading.hotkeys import HotkeyAction, normalize_chord
from brokerql.domain.trading.invariants import check_invariants
from brokerql.domain.trading.ledger import Funds, LedgerError, Position, settle_buy_fill, settle_sell_fill
from brokerql.domain.trading.orders import (
    TRANSITIONS,
    InvalidFill,
    InvalidTransition,
    Order,
    OrderError,
    OrderStatus,
    cash_movement_of_fill,
    duplicate_client_order_id,
)
from brokerql.domain.trading.preferences import (
    FixedQuantity,
    PositionRatio,
    TradingPreferences,
    resolve_default_quantity,
    round_to_lot,
    validate_preferences,
)
from brokerql.domain.trading.price_levels import PriceLevel, no_quote_at_level, resolve_price_level

__all__ = [
    "A_SHARE",
    "DEFAULT_SCHEDULE",
    "TRANSITIONS",
    "Account",
    "AccountType",
    "AnyOrderEvent",
    "CancelCondition",
    "CancelOrders",
    "CancelScope",
    "EventKind",
    "FeeBasis",
    "FeeSchedule",
    "Fees",
    "FixedQuantity",
    "Funds",
    "HotkeyAction",
    "InvalidFill",
    "InvalidTransition",
    "LedgerError",
    "Liquidity",
    "Order",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCancelRequested",
    "OrderCanceled",
    "OrderError",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderStatus",
    "PlaceOrder",
    "Position",
    "PositionRatio",
    "PriceLevel",
    "TradingPreferences",
    "UpdatePreferences",
    "cash_movement_of_fill",
    "check_invariants",
    "duplicate_client_order_id",
    "estimate_buy_freeze",
    "no_quote_at_level",
    "normalize_chord",
    "resolve_default_quantity",
    "resolve_price_level",
    "round_to_lot",
    "select_orders_to_cancel",
    "sell_fee_buffer",
    "settle_buy_fill",
    "settle_sell_fill",
    "validate_preferences",
]
