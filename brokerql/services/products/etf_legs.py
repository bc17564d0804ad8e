"""The legs of an ETF's PCF basket as marketable limit orders (C6): which lines, how many, at what price.
Shared by the basket trade and the arbitrage runs (services/products/etf.py, etf_arbitrage.py)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from brokerql.domain.common import OrderType, Side
from brokerql.domain.market.instruments import Instrument, Substitution
from brokerql.domain.trading.commands import PlaceOrder

# Legs are limit orders this far through the last price, so they trade at once on a normal book.
LEG_SLIPPAGE = Decimal("0.01")


def basket_legs(etf: Instrument, units: int) -> list[tuple[str, int]]:
    """(symbol, shares) of every in-kind PCF line for `units` creation units (must-cash lines excluded)."""
    return [(line.symbol, line.quantity * units) for line in etf.pcf if line.substitution is not Substitution.MUST_CASH]


def leg_price(instrument: Instrument, side: Side, last: Decimal) -> Decimal:
    """`last` moved LEG_SLIPPAGE through the book to the instrument's tick, within its price limits."""
    tick = instrument.tick_size
    if side is Side.BUY:
        price = (last * (1 + LEG_SLIPPAGE) / tick).to_integral_value(rounding=ROUND_CEILING) * tick
        return min(price, instrument.limit_up) if instrument.limit_up else price
    price = (last * (1 - LEG_SLIPPAGE) / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
    return max(price, instrument.limit_down) if instrument.limit_down else price


def leg_orders(
    account_id: str,
    legs: list[tuple[str, int]],
    side: Side,
    prices: Mapping[str, Decimal],
    instruments: Mapping[str, Instrument],
    *,
    risk_acknowledged: bool,
    id_prefix: str | None = None,
) -> list[PlaceOrder]:
    """One marketable limit order per leg; with `id_prefix`, each carries the client order id
    `<prefix>:<symbol>` so that a retry finds the order already placed instead of placing it twice."""
    return [
        PlaceOrder(
            account_id=account_id,
            symbol=symbol,
            side=side,
            type=OrderType.LIMIT,
            quantity=quantity,
            price=leg_price(instruments[symbol], side, prices[symbol]),
            client_order_id=f"{id_prefix}:{symbol}" if id_prefix else None,
            risk_acknowledged=risk_acknowledged,
        )
        for symbol, quantity in legs
    ]
