"""The order wizard's figures (委托精灵): what an order would cost, freeze and leave, before it is sent.

The figures come from the same domain calls that accepting the order uses (`Account.freeze_needed`,
`FeeSchedule.fees`), so a preview and the booked order cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from brokerql.domain.common import Side
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


def max_buy_quantity(
    price: Decimal | None, available: Decimal, lots: LotRule, schedule: FeeSchedule, basis: FeeBasis
) -> int:
    """The most shares `available` cash buys at `price`, fees included, in valid lot sizes (0 if none),
    up to what one order may hold."""
    if price is None or price <= 0 or available <= 0:
        return 0
    step = lots.increment or lots.lot_size

    def fits(steps: int) -> bool:
        return estimate_buy_freeze(price, lots.lot_size + steps * step, schedule, basis) <= available

    if not fits(0):
        return 0
    cap = (MAX_ORDER_QUANTITY - lots.lot_size) // step
    if fits(cap):
        return lots.lot_size + cap * step
    low, high = 0, min(cap, max(0, int((available / price - lots.lot_size) // step)) + 1)  # fits(low), not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return lots.lot_size + low * step


def max_sell_quantity(sellable: int) -> int:
    """A sell may take every sellable share (an odd remainder goes with it), up to one order's worth."""
    return min(max(0, sellable), MAX_ORDER_QUANTITY)
