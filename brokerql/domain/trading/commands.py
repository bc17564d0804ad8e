"""Commands: what a client asks the trading core to do, named as verbs (the services handle them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.cancels import CancelCondition, CancelScope
from brokerql.domain.trading.orders import OrderPurpose
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
    purpose: OrderPurpose = OrderPurpose.NORMAL  # margin accounts: financing buy, short sale, repay, return
    # The client read the risk warning of a product above its risk level and buys anyway (recorded).
    risk_acknowledged: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RepayMargin:
    """直接还款: pay `amount` of cash towards financing debts (one symbol's, or all), interest first."""

    account_id: str
    amount: Decimal
    symbol: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertEtf:
    """申购 (`create`) or 赎回: `units` creation units of the ETF `etf` in the account."""

    account_id: str
    etf: str
    units: int
    create: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeEtfBasket:
    """Buy or sell an ETF's in-kind constituents (its PCF lines other than MUST_CASH) x `units` creation
    units, all legs or none."""

    account_id: str
    etf: str
    units: int
    side: Side
    risk_acknowledged: bool = False  # the client read the risk warning of legs above its level (buys)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEtfArbitrage:
    """T+0 ETF arbitrage as one action: PREMIUM buys the basket, creates and sells the ETF; DISCOUNT buys
    the ETF, redeems and sells the basket. `estimate_only` prices it without sending anything."""

    account_id: str
    etf: str
    units: int
    direction: str  # PREMIUM or DISCOUNT
    estimate_only: bool = False
    risk_acknowledged: bool = False  # for the first legs, which buy (the basket, or the ETF)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnShares:
    """直接还券: give back `quantity` borrowed shares of `symbol` from the shares the account holds."""

    account_id: str
    symbol: str
    quantity: int


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
    """Change some of a client's trading preferences (D2): None leaves a setting as it is; `hotkeys`
    (chord, action) pairs, when given, replace the whole map. `preferences.updated` applies it."""

    confirm_on_order: bool | None = None
    confirm_on_cancel: bool | None = None
    default_price_level: PriceLevel | None = None
    default_price: Decimal | None = None
    default_quantity_ratio: Decimal | None = None
    default_quantity_shares: int | None = None
    hotkeys: tuple[tuple[str, str], ...] | None = None
