"""A futures account's orders (C8): how an order opens or closes the net position, what it freezes, how a
fill books margin and P&L, and the daily mark to the settlement price. `Account` calls these for FUTURES
accounts; the contract arithmetic itself is in domain/trading/futures.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.market.sessions import trading_day
from brokerql.domain.trading import futures as fut
from brokerql.domain.trading.fees import ZERO, Fees
from brokerql.domain.trading.ledger import Funds, LedgerError
from brokerql.domain.trading.orders import (
    Order,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    cash_movement_of_fill,
)


class Account(Protocol):
    """What the futures rules read and change of an account (domain/trading/account.py's `Account`, which
    calls them after checking the order is its own; a protocol so that they do not import it)."""

    funds: Funds
    futures: dict[str, fut.FuturesPosition]
    realised_pnl: Decimal


def accept(
    account: Account, order: Order, *, ts: datetime, protective_price: Decimal | None
) -> OrderAccepted | OrderRejected:
    """A futures order opens or closes the net position (futures.accept_order decides and prices)."""
    if order.status is not OrderStatus.PENDING_NEW:
        raise ValueError(f"order {order.id} is {order.status}; only PENDING_NEW orders reserve")
    price = order.price if order.type is OrderType.LIMIT else protective_price
    if price is None:
        raise ValueError("a market futures order needs a protective price to freeze cash at")
    spec = fut.spec_of(order.symbol)
    outcome = fut.accept_order(
        account.futures.get(order.symbol), spec, order.side, price, order.leaves_qty, trading_day(ts)
    )
    event: OrderAccepted | OrderRejected
    if isinstance(outcome, Rejection):
        event = OrderRejected(order_id=order.id, ts=ts, code=outcome.code, reason=outcome.message)
    else:
        position, freeze = outcome
        try:
            funds = account.funds.freeze(freeze)
        except LedgerError as error:
            event = OrderRejected(order_id=order.id, ts=ts, code=error.code, reason=error.message)
        else:
            account.funds, account.futures[order.symbol] = funds, position
            event = OrderAccepted(order_id=order.id, ts=ts, frozen_cash=freeze)
    order.apply(event)
    return event


def fill_fees(account: Account, order: Order, price: Decimal, quantity: int) -> Fees:
    """The contract's rate per fill (open, close-yesterday or close-today), as commission."""
    position = account.futures.get(order.symbol)
    return Fees(commission=fut.fill_fee(position, fut.spec_of(order.symbol), order.side, price, quantity))


def book_fill(account: Account, order: Order, fill: OrderFilled) -> Decimal:
    """Open: margin + fee from the order's frozen cash. Close: release margin, book P&L - fee."""
    position = account.futures.get(order.symbol)
    if position is None:
        raise ValueError(f"futures fill of {order.symbol} without an accepted order's position")
    booking = fut.book_fill(position, fut.spec_of(order.symbol), order.side, fill.price, fill.quantity)
    if fill.frozen_used is None or fill.fees.total != booking.fee:
        raise ValueError(f"futures fill {fill.fill_id} must carry the fee and frozen cash the domain computed")
    order.check(fill)
    _, consumed, refund = cash_movement_of_fill(order, fill)
    delta = booking.realised - booking.fee
    funds = account.funds.book_margined(delta, booking.margin_delta, consumed, refund)
    order.apply(fill)
    account.funds = funds
    _put(account, booking.position)
    account.realised_pnl += delta
    return delta


def complete_fill(account: Account, order: Order, fill: OrderFilled) -> OrderFilled:
    """`fill` carrying the domain's fee and the frozen cash it uses (unchanged without a position)."""
    position = account.futures.get(order.symbol)
    if position is None:
        return fill
    booking = fut.book_fill(position, fut.spec_of(order.symbol), order.side, fill.price, fill.quantity)
    return replace(fill, fees=Fees(commission=booking.fee), frozen_used=booking.frozen_used)


def settle(account: Account, symbol: str, price: Decimal, *, final: bool) -> fut.Settlement | None:
    """Mark one contract to its settlement price (deliver it when `final`); None if not held."""
    position = account.futures.get(symbol)
    if position is None or position.quantity == 0:
        return None
    settlement = fut.settle(position, fut.spec_of(symbol), price, final=final)
    account.funds = account.funds.mark(settlement.variation - settlement.fee, settlement.margin_delta)
    account.realised_pnl += settlement.variation - settlement.fee
    if settlement.position is None:
        left = replace(position, yd_quantity=0, td_quantity=0, td_cost=ZERO, open_cost=ZERO, margin=ZERO)
        _put(account, left)
    else:
        _put(account, settlement.position)
    return settlement


def release(account: Account, order: Order, quantity: int) -> None:
    """Give back the whole remainder of a working futures order (its frozen cash, closing contracts)."""
    position = account.futures.get(order.symbol)
    if position is None or quantity != order.leaves_qty:
        raise ValueError(f"cannot release {quantity} of futures order {order.id}")
    funds = account.funds.release(order.frozen_cash)
    released = fut.release_order(position, order.side, quantity)
    account.funds = funds
    _put(account, released)


def _put(account: Account, position: fut.FuturesPosition) -> None:
    if position.is_empty:
        account.futures.pop(position.symbol, None)
    else:
        account.futures[position.symbol] = position


def order_fits(account: Account, symbol: str, side: Side, price: Decimal, *, ts: datetime) -> Callable[[int], bool]:
    """Whether an order of `side` at `price` for a given number of contracts would be accepted now: an
    open within the position limit with its margin and fee in the available cash, a close within the
    contracts it may cover (the order wizard's largest order searches on this)."""
    spec, position, available = fut.spec_of(symbol), account.futures.get(symbol), account.funds.available

    def fits(quantity: int) -> bool:
        outcome = fut.accept_order(position, spec, side, price, quantity, trading_day(ts))
        return not isinstance(outcome, Rejection) and outcome[1] <= available

    return fits
