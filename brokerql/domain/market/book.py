"""The matching engine: one continuous-trading limit order book per instrument, price-time priority."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from itertools import islice
from operator import neg

from sortedcontainers import SortedDict

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.orders import (
    Depth,
    DepthLevel,
    Execution,
    MatchResult,
    RestingOrder,
    normalize_submit,
)

__all__ = ["OrderBook"]


class _Order:
    __slots__ = ("order_id", "price", "remaining", "side")

    def __init__(self, order_id: str, side: Side, price: Decimal, remaining: int) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price
        self.remaining = remaining


class _Level:
    """A FIFO of orders at one price; cancelled orders stay in the deque (remaining 0) until skipped."""

    __slots__ = ("count", "orders", "quantity")

    def __init__(self) -> None:
        self.orders: deque[_Order] = deque()
        self.quantity = 0
        self.count = 0

    def compact(self) -> None:
        """Drop cancelled entries once they outnumber live ones, so lazy deletion stays bounded."""
        if len(self.orders) > 2 * self.count + 16:
            self.orders = deque(o for o in self.orders if o.remaining)


class OrderBook:
    """Continuous limit order book with price-time priority.

    Executions are always at the maker's price, and the book is never left crossed. Market orders
    follow the SSE/SZSE "best five levels, remainder cancelled" protection: they sweep at most
    `protect_levels` price levels (None = unlimited) and cancel what is left. IOC and FOK never rest;
    FOK checks the available liquidity first and leaves the book untouched when it cannot fill.
    `tick_size` is informational: price validity is the board rules' job, not the book's.
    `turnover` is price x quantity, without any contract multiplier.
    """

    def __init__(self, symbol: str, tick_size: Decimal | None = None) -> None:
        self.symbol = symbol
        self.tick_size = tick_size
        # Both sides iterate best-first: bids keyed through neg so the highest price comes first.
        self._bids: SortedDict = SortedDict(neg)
        self._asks: SortedDict = SortedDict()
        self._orders: dict[str, _Order] = {}
        self._seq = 0
        self.last_price: Decimal | None = None
        self.volume = 0
        self.turnover = Decimal(0)

    def submit(
        self,
        order_id: str,
        side: Side,
        order_type: OrderType,
        quantity: int,
        price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.DAY,
        protect_levels: int | None = 5,
    ) -> MatchResult:
        """Match an incoming order, rest a DAY limit remainder, cancel any other remainder."""
        side, limit, time_in_force = normalize_submit(side, order_type, quantity, price, time_in_force)
        if order_id in self._orders:
            raise ValueError(f"order {order_id!r} is already resting in {self.symbol}")
        max_levels = protect_levels if limit is None else None
        opposite = self._asks if side is Side.BUY else self._bids
        fok = time_in_force is TimeInForce.FOK
        if fok and self._available(opposite, side, limit, max_levels, quantity) < quantity:
            return MatchResult(order_id, quantity, [], 0, quantity)
        executions: list[Execution] = []
        remaining = quantity
        levels_used = 0
        while remaining and opposite:
            level_price, level = opposite.peekitem(0)
            if not _crosses(side, limit, level_price) or levels_used == max_levels:
                break
            levels_used += 1
            remaining = self._match_level(level, level_price, order_id, side, remaining, executions)
            if level.count == 0:
                del opposite[level_price]
        if remaining and limit is not None and time_in_force is TimeInForce.DAY:
            self._rest(_Order(order_id, side, limit, remaining))
            return MatchResult(order_id, quantity, executions, remaining, 0)
        return MatchResult(order_id, quantity, executions, 0, remaining)

    def cancel(self, order_id: str) -> int | None:
        """Remove a resting order; the quantity removed, or None if unknown or already done."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        side_book = self._bids if order.side is Side.BUY else self._asks
        level: _Level = side_book[order.price]
        removed, order.remaining = order.remaining, 0
        level.quantity -= removed
        level.count -= 1
        if level.count == 0:
            del side_book[order.price]
        else:
            level.compact()
        return removed

    def resting_order(self, order_id: str) -> RestingOrder | None:
        """Side, price and open quantity of a resting order, None if it is not resting."""
        order = self._orders.get(order_id)
        return None if order is None else RestingOrder(order_id, order.side, order.price, order.remaining)

    def remaining(self, order_id: str) -> int | None:
        """Open quantity of a resting order, None if it is not resting."""
        order = self._orders.get(order_id)
        return None if order is None else order.remaining

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def __len__(self) -> int:
        return len(self._orders)

    @property
    def best_bid(self) -> Decimal | None:
        """Highest resting buy price."""
        return self._bids.peekitem(0)[0] if self._bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest resting sell price."""
        return self._asks.peekitem(0)[0] if self._asks else None

    def depth(self, levels: int = 10) -> Depth:
        """The best `levels` price levels of each side as (price, quantity, order_count)."""
        return Depth(_levels(self._bids, levels), _levels(self._asks, levels))

    def _rest(self, order: _Order) -> None:
        side_book = self._bids if order.side is Side.BUY else self._asks
        level = side_book.get(order.price)
        if level is None:
            level = side_book[order.price] = _Level()
        level.orders.append(order)
        level.quantity += order.remaining
        level.count += 1
        self._orders[order.order_id] = order

    def _match_level(
        self, level: _Level, price: Decimal, taker_id: str, side: Side, remaining: int, out: list[Execution]
    ) -> int:
        orders = level.orders
        while remaining and orders:
            maker = orders[0]
            if not maker.remaining:  # lazily deleted by cancel()
                orders.popleft()
                continue
            traded = min(remaining, maker.remaining)
            maker.remaining -= traded
            remaining -= traded
            level.quantity -= traded
            self._seq += 1
            out.append(Execution(self.symbol, price, traded, maker.order_id, taker_id, side, self._seq))
            self.last_price = price
            self.volume += traded
            self.turnover += price * traded
            if not maker.remaining:
                orders.popleft()
                level.count -= 1
                del self._orders[maker.order_id]
        return remaining

    @staticmethod
    def _available(opposite: SortedDict, side: Side, limit: Decimal | None, max_levels: int | None, wanted: int) -> int:
        total = 0
        for index, (price, level) in enumerate(opposite.items()):
            if not _crosses(side, limit, price) or index == max_levels:
                break
            total += level.quantity
            if total >= wanted:
                break
        return total


def _crosses(side: Side, limit: Decimal | None, level_price: Decimal) -> bool:
    """Whether a taker with `limit` (None = market) may trade at `level_price`."""
    if limit is None:
        return True
    return level_price <= limit if side is Side.BUY else level_price >= limit


def _levels(side_book: SortedDict, count: int) -> tuple[DepthLevel, ...]:
    best = islice(side_book.items(), count)
    return tuple(DepthLevel(price, level.quantity, level.count) for price, level in best)
