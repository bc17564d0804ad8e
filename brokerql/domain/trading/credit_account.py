"""A margin account's credit orders (C7): how financing buys, short sales, sells-to-repay and buys-to-return
reserve, book and release, on top of the cash-account ledger. `Account` calls these for MARGIN accounts
with a non-NORMAL order purpose; the rules themselves are in domain/trading/margin.py.

- FINANCING_BUY freezes no cash (the broker pays): it reserves credit of limit price x quantity + fees;
  its fill adds the shares (collateral, T+1) and a debt of their cost.
- SHORT_SELL freezes only the sell fee buffer and no shares: it reserves credit of price x quantity;
  its fill owes the shares, and its proceeds (after fees) are held as security (`Funds.margin`).
- SELL_TO_REPAY is an ordinary sell whose proceeds then repay financing (interest first).
- BUY_TO_RETURN is an ordinary buy whose shares go straight back to the lender (the short's held
  proceeds are released pro rata, its interest paid); any shares beyond the debt stay in the position.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from brokerql.domain.common import OrderType, Rejection
from brokerql.domain.trading import margin
from brokerql.domain.trading.fees import ZERO, FeeSchedule, estimate_buy_freeze, sell_fee_buffer
from brokerql.domain.trading.ledger import Funds, LedgerError, Position, settle_buy_fill, settle_sell_fill
from brokerql.domain.trading.margin import DebtKind
from brokerql.domain.trading.orders import (
    Order,
    OrderAccepted,
    OrderFilled,
    OrderPurpose,
    OrderRejected,
    cash_movement_of_fill,
)


class Account(Protocol):
    """What the credit rules read and change of a margin account (domain/trading/account.py's `Account`,
    which calls them; a protocol so that the rules do not import the account that imports them)."""

    funds: Funds
    positions: dict[str, Position]
    fee_schedule: FeeSchedule
    credit: dict[margin.DebtKey, margin.Debt]

    def position(self, symbol: str) -> Position: ...

    def accept_as_cash(self, order: Order, *, ts: datetime) -> OrderAccepted | OrderRejected: ...


_KIND = {OrderPurpose.FINANCING_BUY: DebtKind.FINANCING, OrderPurpose.SHORT_SELL: DebtKind.SHORT}


def reservation(account: Account, order: Order) -> Decimal:
    """Credit a working financing buy or short sale reserves in full (struck at its limit price)."""
    assert order.price is not None
    if order.purpose is OrderPurpose.FINANCING_BUY:
        return estimate_buy_freeze(order.price, order.quantity, account.fee_schedule)
    return order.price * order.quantity


def _reserved_through(account: Account, order: Order, cum_qty: int) -> Decimal:
    """The part of the reservation given back once `cum_qty` has traded (all of it at the order's size)."""
    total = reservation(account, order)
    return total if cum_qty >= order.quantity else margin.cents(total * cum_qty / order.quantity)


def accept(account: Account, order: Order, *, ts: datetime) -> OrderAccepted | OrderRejected:
    """Reserve for a credit order (the service checked eligibility, lines, credit and the price rule)."""
    refusal = _refusal(account, order)
    if refusal is None and not order.purpose.takes_credit:  # repay / return: ordinary orders, then credit
        return account.accept_as_cash(order, ts=ts)
    if refusal is None:
        freeze = sell_fee_buffer(order.price or ZERO, account.fee_schedule) if order.side.value == "SELL" else ZERO
        try:
            funds = account.funds.freeze(freeze)
        except LedgerError as error:
            refusal = Rejection(error.code, error.message, "quantity")
        else:
            key = (_KIND[order.purpose], order.symbol)
            account.credit[key] = margin.reserve(
                account.credit.get(key), key[0], order.symbol, order.quantity, reservation(account, order)
            )
            account.funds = funds
            event: OrderAccepted | OrderRejected = OrderAccepted(order_id=order.id, ts=ts, frozen_cash=freeze)
            order.apply(event)
            return event
    event = OrderRejected(order_id=order.id, ts=ts, code=refusal.code, reason=refusal.message)
    order.apply(event)
    return event


def _refusal(account: Account, order: Order) -> Rejection | None:
    if order.purpose.takes_credit and order.type is not OrderType.LIMIT:
        return Rejection("CREDIT_LIMIT_ONLY", "Financing buys and short sales are limit orders.", "type")
    expected = "BUY" if order.purpose in (OrderPurpose.FINANCING_BUY, OrderPurpose.BUY_TO_RETURN) else "SELL"
    if order.side.value != expected:
        return Rejection("BAD_SIDE", f"A {order.purpose.value} order is a {expected}.", "side")
    if order.purpose is OrderPurpose.SELL_TO_REPAY and not any(k[0] is DebtKind.FINANCING for k in account.credit):
        return Rejection("NO_DEBT", "There is no financing to repay.", "purpose")
    if order.purpose is OrderPurpose.BUY_TO_RETURN:
        owed = account.credit.get((DebtKind.SHORT, order.symbol))
        if owed is None or order.quantity > owed.quantity:
            have = owed.quantity if owed else 0
            return Rejection("NO_DEBT", f"You owe {have} shares of {order.symbol}.", "quantity")
    return None


def book_fill(account: Account, order: Order, fill: OrderFilled, *, t_plus: int) -> Decimal:
    """Book one fill of a credit order; returns its realised P&L (sells to repay only)."""
    order.check(fill)
    _, consumed, refund = cash_movement_of_fill(order, fill)
    key = (_KIND.get(order.purpose, DebtKind.FINANCING), order.symbol)
    released = _reserved_through(account, order, order.cum_qty + fill.quantity) - _reserved_through(
        account, order, order.cum_qty
    )
    credit = dict(account.credit)
    position = account.position(order.symbol)
    funds = account.funds
    realised = ZERO
    if order.purpose is OrderPurpose.FINANCING_BUY:
        cost = fill.notional + fill.fees.total
        debt = margin.unreserve(credit[key], fill.quantity, released)
        credit[key] = margin.financed(debt, fill.quantity, cost)
        position = position.add_bought(fill.quantity, cost, t_plus=t_plus)
        funds = funds.settle(ZERO, consumed, refund)
    elif order.purpose is OrderPurpose.SHORT_SELL:
        proceeds = fill.notional - fill.fees.total
        debt = margin.unreserve(credit[key], fill.quantity, released)
        credit[key] = margin.shorted(debt, fill.quantity, fill.notional, proceeds)
        funds = funds.book_margined(proceeds, proceeds, consumed, refund)
    elif order.purpose is OrderPurpose.SELL_TO_REPAY:
        args = dict(price=fill.price, quantity=fill.quantity, fees=fill.fees, frozen_portion=consumed, refund=refund)
        funds, position, realised = settle_sell_fill(funds, position, **args)
        owed = sum((d.principal + d.interest for k, d in credit.items() if k[0] is DebtKind.FINANCING), ZERO)
        pay = min(fill.notional - fill.fees.total, owed, funds.available)
        if pay > 0:
            repaid = margin.repay_cash(credit, pay)
            credit = repaid.debts
            funds = funds.pay(repaid.total)
    else:  # BUY_TO_RETURN
        funds, _ = settle_buy_fill(
            funds, position, price=fill.price, quantity=fill.quantity, fees=fill.fees,
            frozen_portion=consumed, refund=refund,
        )  # fmt: skip
        cost = fill.notional + fill.fees.total
        owed = credit.get((DebtKind.SHORT, order.symbol))
        returned = min(fill.quantity, owed.quantity if owed else 0)
        if returned:
            assert owed is not None
            funds, credit = _give_back(funds, credit, owed, returned)
        extra = fill.quantity - returned
        if extra:
            position = position.add_bought(extra, margin.cents(cost * extra / fill.quantity), t_plus=t_plus)
    order.apply(fill)
    account.funds, account.credit = funds, {k: d for k, d in credit.items() if not d.is_empty}
    if position.quantity or position.frozen_quantity or order.symbol in account.positions:
        account.positions[order.symbol] = position
    return realised


def _give_back(funds, credit, owed, quantity):  # type: ignore[no-untyped-def]
    """Shares returned against a short: release its held proceeds pro rata, pay its interest from cash
    (what cash cannot cover stays owed as interest)."""
    back = margin.return_shares(owed, quantity)
    funds = funds.book_margined(ZERO, -back.released)
    paid = min(back.interest, funds.available)
    if paid:
        funds = funds.pay(paid)
    left = back.debt or margin.Debt(DebtKind.SHORT, owed.symbol)
    left = replace(left, interest=left.interest + back.interest - paid)
    credit = dict(credit)
    credit[(DebtKind.SHORT, owed.symbol)] = left
    return funds, credit


def return_held_shares(account: Account, symbol: str, quantity: int) -> margin.SharesReturned:
    """直接还券: give back `quantity` sellable shares the account holds against its short in `symbol`."""
    owed = account.credit.get((DebtKind.SHORT, symbol))
    if owed is None or quantity > owed.quantity:
        raise LedgerError("NO_DEBT", f"You owe {owed.quantity if owed else 0} shares of {symbol}.")
    position = account.position(symbol)
    if quantity > position.sellable_quantity:
        raise LedgerError("INSUFFICIENT_POSITION", f"sellable {position.sellable_quantity}, needs {quantity}")
    frozen = position.freeze(quantity)
    position, _cost_removed = frozen.remove_sold(quantity)
    back = margin.return_shares(owed, quantity)
    funds, credit = _give_back(account.funds, account.credit, owed, quantity)
    account.funds, account.credit = funds, {k: d for k, d in credit.items() if not d.is_empty}
    if position.quantity:
        account.positions[symbol] = position
    else:
        account.positions.pop(symbol, None)
    return back


def release(account: Account, order: Order, quantity: int) -> None:
    """A credit order's remainder ended: release its fee buffer and what is left of its reservation."""
    key = (_KIND[order.purpose], order.symbol)
    left = reservation(account, order) - _reserved_through(account, order, order.cum_qty)
    debt = margin.unreserve(account.credit[key], quantity, left)
    funds = account.funds.release(order.frozen_cash)
    account.funds = funds
    if debt.is_empty:
        account.credit.pop(key, None)
    else:
        account.credit[key] = debt
