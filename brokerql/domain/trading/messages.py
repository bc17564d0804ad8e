"""What an account's event log holds and what its subscribers receive: typed, immutable, Decimal money.

`AccountEvent` is one entry of the per-account log (gapless `seq`). It carries the order as it stands
after the change (`OrderView`) and, for a FILL, the execution (`FillView`), so a push needs no database
read. These are built from the domain's own objects (`OrderView.of(order)`), in one place; the GraphQL
mapping reads them and nothing else builds or parses an order snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.trading.events import Liquidity, OrderFilled
from brokerql.domain.trading.fees import Fees
from brokerql.domain.trading.orders import Order, OrderPurpose, OrderStatus, average_price
from brokerql.domain.trading.parked import ParkedOrderView, ParkedStatus


class AccountEventKind(StrEnum):
    """The `kind` of an entry in an account's event log (order events, and the daily settlement)."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    FILL = "FILL"
    CANCEL_REQUESTED = "CANCEL_REQUESTED"
    CANCELED = "CANCELED"
    CANCEL_REJECTED = "CANCEL_REJECTED"
    EXPIRED = "EXPIRED"
    DAY_SETTLED = "DAY_SETTLED"
    FUTURES_SETTLED = "FUTURES_SETTLED"  # daily mark-to-market of one contract (`futures` says how)
    FUTURES_DELIVERED = "FUTURES_DELIVERED"  # expiry: cash delivery at the final settlement price
    MARGIN_REPAID = "MARGIN_REPAID"  # 直接还款 (`credit` says what was paid)
    SHARES_RETURNED = "SHARES_RETURNED"  # 直接还券
    MARGIN_INTEREST = "MARGIN_INTEREST"  # daily interest posted on financing and borrowed shares
    MARGIN_LINE_CROSSED = "MARGIN_LINE_CROSSED"  # the maintenance ratio moved into another zone
    ETF_CREATED = "ETF_CREATED"  # constituents + cash became ETF shares (`etf` says how)
    ETF_REDEEMED = "ETF_REDEEMED"  # ETF shares became constituents + cash
    ETF_ARBITRAGE = "ETF_ARBITRAGE"  # an arbitrage run moved on (code: STARTED, CONVERTED, DONE, BROKEN)
    # A parked order's life (C5); the event carries the parked order as it stands (`parked`).
    PARKED = "PARKED"
    PARKED_TRIGGERED = "PARKED_TRIGGERED"
    PARKED_CANCELED = "PARKED_CANCELED"
    PARKED_EXPIRED = "PARKED_EXPIRED"
    PARKED_FAILED = "PARKED_FAILED"


# The event that records a parked order reaching each status (FIRING, the claim, is not announced).
PARKED_EVENT_KIND: dict[ParkedStatus, AccountEventKind] = {
    ParkedStatus.PARKED: AccountEventKind.PARKED,
    ParkedStatus.TRIGGERED: AccountEventKind.PARKED_TRIGGERED,
    ParkedStatus.CANCELED: AccountEventKind.PARKED_CANCELED,
    ParkedStatus.EXPIRED: AccountEventKind.PARKED_EXPIRED,
    ParkedStatus.FAILED: AccountEventKind.PARKED_FAILED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderView:
    """An order as it stands after a change: an immutable copy of the domain `Order`'s state."""

    id: str
    account_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal | None
    quantity: int
    status: OrderStatus
    cum_qty: int
    leaves_qty: int
    notional: Decimal
    fees_paid: Decimal
    frozen_cash: Decimal
    reject_code: str | None
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime
    purpose: OrderPurpose = OrderPurpose.NORMAL
    basket_run_id: str | None = None  # a basket run's leg (C4)
    pair_id: str | None = None  # one side of a paired buy/sell

    @classmethod
    def of(cls, order: Order) -> OrderView:
        return cls(
            id=order.id,
            account_id=order.account_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            type=order.type,
            time_in_force=order.time_in_force,
            price=order.price,
            quantity=order.quantity,
            status=order.status,
            cum_qty=order.cum_qty,
            leaves_qty=order.leaves_qty,
            notional=order.notional,
            fees_paid=order.fees_paid,
            frozen_cash=order.frozen_cash,
            reject_code=order.reject_code,
            reject_reason=order.reason,
            created_at=order.created_at,
            updated_at=order.updated_at,
            purpose=order.purpose,
            basket_run_id=order.basket_run_id,
            pair_id=order.pair_id,
        )

    @property
    def avg_px(self) -> Decimal | None:
        """The domain's average fill price (the same rounding as `Order.avg_px`)."""
        return average_price(self.notional, self.cum_qty)


@dataclass(frozen=True, slots=True, kw_only=True)
class FillView:
    """One execution booked against an order: its price, quantity, fees and liquidity."""

    id: str
    exec_id: str
    order_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: int
    fees: Fees
    liquidity: Liquidity | None  # None: booked before liquidity was recorded
    at: datetime

    @classmethod
    def of(cls, fill: OrderFilled, *, exec_id: str, symbol: str, side: Side) -> FillView:
        return cls(
            id=fill.fill_id,
            exec_id=exec_id,
            order_id=fill.order_id,
            symbol=symbol,
            side=side,
            price=fill.price,
            quantity=fill.quantity,
            fees=fill.fees,
            liquidity=fill.liquidity,
            at=fill.ts,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FuturesSettled:
    """One contract of one account marked to a settlement price (or delivered at expiry).

    `margin_call` > 0 is the deficit left below zero available cash: a margin call (追加保证金)."""

    symbol: str
    settlement_price: Decimal
    direction: str
    quantity: int
    variation: Decimal
    margin: Decimal
    fee: Decimal
    delivered: int
    margin_call: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditChanged:
    """What a margin-account change did: a repayment, a return of shares, interest posted, or the
    maintenance ratio crossing a line (`zone` SAFE / WARNING / LIQUIDATION, with the ratio and lines)."""

    action: str  # REPAY_CASH, RETURN_SHARES, INTEREST, LINE_CROSSED
    symbol: str | None = None
    quantity: int = 0
    amount: Decimal = Decimal(0)
    interest: Decimal = Decimal(0)
    principal: Decimal = Decimal(0)
    ratio: Decimal | None = None
    zone: str | None = None
    previous_zone: str | None = None
    warning_line: Decimal | None = None
    liquidation_line: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EtfChanged:
    """An ETF creation or redemption, or a step of an arbitrage run (`run_id`, with its P&L)."""

    action: str  # CREATED, REDEEMED, ARBITRAGE
    etf: str
    units: int
    etf_shares: int = 0
    cash: Decimal = Decimal(0)  # paid on creation, received on redemption
    substituted: Decimal = Decimal(0)
    cash_component: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    run_id: str | None = None
    status: str | None = None
    estimated_pnl: Decimal | None = None
    realised_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountEvent:
    """One entry of an account's event log, as stored and as pushed on `orderEvents`."""

    account_id: str
    seq: int
    kind: AccountEventKind
    at: datetime
    order: OrderView | None = None
    fill: FillView | None = None
    code: str | None = None
    reason: str | None = None
    trading_day: str | None = None  # DAY_SETTLED: the trading day that began
    futures: FuturesSettled | None = None  # FUTURES_SETTLED / FUTURES_DELIVERED
    credit: CreditChanged | None = None  # MARGIN_REPAID / SHARES_RETURNED / MARGIN_INTEREST / MARGIN_LINE_CROSSED
    etf: EtfChanged | None = None  # ETF_CREATED / ETF_REDEEMED / ETF_ARBITRAGE
    basket_run_id: str | None = None  # the event's order is a leg of this basket run (C4)
    parked: ParkedOrderView | None = None  # PARKED_*: the parked order after the change
