"""The one rounding and display-scale policy: every figure kind has a fixed scale, rounded half up.

| kind                               | scale                                   | e.g.          |
|------------------------------------|-----------------------------------------|---------------|
| price (orders, fills, quotes)      | the decimals of the tick at that price  | 13.00, 3.912  |
| money (cash, fees, cost, P&L)      | 2 decimals                              | 1000000.00    |
| average (avg fill price, avg cost) | 4 decimals                              | 13.1235       |

The domain computes exactly (`Order.notional`, `Position.cost`) and rounds only where a rule says so
(fees to cents, the cost leaving a position to cents); averages are derived for display with
`average`. The GraphQL mapping applies `price`, `money` and `average` to every figure it shows, so
"13.00" reads back as "13.00" and cash as "1000000.00" on every backend.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from brokerql.domain.market.boards import BOARD_RULES, Board, hk_tick

MONEY = Decimal("0.01")
AVERAGE = Decimal("0.0001")


def money(amount: Decimal) -> Decimal:
    """Cash, fees, cost, market value and P&L: 2 decimals, half up."""
    return amount.quantize(MONEY, rounding=ROUND_HALF_UP)


def average(amount: Decimal) -> Decimal:
    """Average fill price and average cost per share: 4 decimals, half up."""
    return amount.quantize(AVERAGE, rounding=ROUND_HALF_UP)


def price(amount: Decimal, board: Board) -> Decimal:
    """A price at the decimals of its board's tick there (0.01 -> 13.00, ETF 0.001 -> 3.912, futures 0.2 ->
    4012.2, HK by the spread table at that price). A price on its tick keeps its value; only the scale changes."""
    tick = hk_tick(amount) if board is Board.HK else BOARD_RULES[board].tick_size
    exponent = min(tick.normalize().as_tuple().exponent, 0)  # type: ignore[operator]
    return amount.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def optional_price(amount: Decimal | None, board: Board) -> Decimal | None:
    return None if amount is None else price(amount, board)


def optional_money(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else money(amount)
