"""The order wizard's figures (委托精灵): what an order would cost, freeze and leave, before it is sent.

The figures come from the same domain calls that accepting the order uses (`Account.freeze_needed`,
`FeeSchedule.fees`), so a preview and the booked order cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from brokerql.domain.common import Side
from brokerql.domain.trading import futures_account
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.baskets import MAX_ORDER_QUANTITY, LotRule
from brokerql.domain.trading.fees import FeeBasis, Fees, FeeSchedule, estimate_buy_freeze


@dataclass(frozen=True, slots=True)
class OrderFigures:
    """An order's money before it is sent: fees by kind if it trades in full at `price`, what it
    freezes, and the available cash left after the freeze."""

    price: Decimal | None
    notional: Decimal
    fees: Fees
    frozen_cash: Decimal
    frozen_quantity: int
    available_before: Decimal
    available_after: Decimal
    max_quantity: int


def estimated_fees(schedule: FeeSchedule, side: Side, price: Decimal | None, quantity: int, basis: FeeBasis) -> Fees:
    """Fees of the order traded in full at `price` in one fill (the minimum commission applies once)."""
    if price is None:
        return Fees()
    return schedule.fees(side, price * quantity, basis)


def largest_fitting(fits: Callable[[int], bool], lots: LotRule) -> int:
    """The largest valid quantity (`lot_size` plus whole steps, up to one order's worth) for which `fits`
    holds, or 0 if even one lot does not fit. `fits` must hold for every quantity below one that fits."""
    step = lots.increment or lots.lot_size
    if not fits(lots.lot_size):
        return 0
    low, high = 0, (MAX_ORDER_QUANTITY - lots.lot_size) // step + 1  # steps: fits(low), not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(lots.lot_size + middle * step) else (low, middle)
    return lots.lot_size + low * step


def max_buy_quantity(
    price: Decimal | None, available: Decimal, lots: LotRule, schedule: FeeSchedule, basis: FeeBasis
) -> int:
    """The most shares `available` cash buys at `price`, fees included, in valid lot sizes (0 if none),
    up to what one order may hold."""
    if price is None or price <= 0 or available <= 0:
        return 0
    return largest_fitting(lambda quantity: estimate_buy_freeze(price, quantity, schedule, basis) <= available, lots)


def max_sell_quantity(sellable: int) -> int:
    """A sell may take every sellable share (an odd remainder goes with it), up to one order's worth."""
    return min(max(0, sellable), MAX_ORDER_QUANTITY)


def max_quantity(
    account: Account, symbol: str, side: Side, price: Decimal | None, lots: LotRule, basis: FeeBasis, *, ts: datetime
) -> int:
    """The largest order of `side` the account could place now at `price`, by its own type's rules:
    futures by the margin and fees an open freezes or the contracts a close may cover; otherwise buys
    by cash and sells by sellable shares."""
    if account.type is AccountType.FUTURES:
        return (
            0
            if price is None
            else largest_fitting(futures_account.order_fits(account, symbol, side, price, ts=ts), lots)
        )
    if side is Side.BUY:
        return max_buy_quantity(price, account.funds.available, lots, account.fee_schedule, basis)
    return max_sell_quantity(account.position(symbol).sellable_quantity)
