"""A deliberately naive order book: the oracle for property tests and the benchmark's baseline.

Everything is a linear scan over one list, re-sorted on every match; correctness by inspection
matters here, speed does not. Same public interface and semantics as `OrderBook`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.orders import Depth, DepthLevel, Execution, MatchResult, normalize_submit

__all__ = ["ReferenceBook"]


@dataclass
class _Resting:
    arrival: int
    order_id: str
    side: Side
    price: Decimal
    remaining: int


class ReferenceBook:
    """List-based book with the same behaviour as OrderBook (see its docstring)."""

    def __init__(self, symbol: str, tick_size: Decimal | None = None) -> None:
        self.symbol = symbol
        self.tick_size = tick_size
        self._resting: list[_Resting] = []
        self._arrivals = 0
        self._seq = 0
        self.last_price: Decimal | None = None
        self.volume = 0
        self.turnover = Decimal(0)

    def _queue(self, side: Side) -> list[_Resting]:
        """Resting orders of `side` in priority order: best price first, then earliest arrival."""
        same = [o for o in self._resting if o.side is side]
        if side is Side.BUY:
            return sorted(same, key=lambda o: (-o.price, o.arrival))
        return sorted(same, key=lambda o: (o.price, o.arrival))

    @staticmethod
    def _eligible(queue: list[_Resting], side: Side, limit: Decimal | None, max_levels: int | None):
        prices: list[Decimal] = []
        for order in queue:
            if limit is not None and (order.price > limit if side is Side.BUY else order.price < limit):
                return
            if order.price not in prices:
                if max_levels is not None and len(prices) >= max_levels:
                    return
                prices.append(order.price)
            yield order

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
        """Match, then rest or cancel the remainder, exactly as OrderBook.submit."""
        side, limit, time_in_force = normalize_submit(side, order_type, quantity, price, time_in_force)
        if any(o.order_id == order_id for o in self._resting):
            raise ValueError(f"order {order_id!r} is already resting in {self.symbol}")
        max_levels = protect_levels if limit is None else None
        eligible = list(self._eligible(self._queue(side.opposite), side, limit, max_levels))
        if time_in_force is TimeInForce.FOK and sum(o.remaining for o in eligible) < quantity:
            return MatchResult(order_id, quantity, [], 0, quantity)
        executions: list[Execution] = []
        remaining = quantity
        for maker in eligible:
            if not remaining:
                break
            traded = min(remaining, maker.remaining)
            maker.remaining -= traded
            remaining -= traded
            self._seq += 1
            trade = Execution(self.symbol, maker.price, traded, maker.order_id, order_id, side, self._seq)
            executions.append(trade)
            self.last_price = maker.price
            self.volume += traded
            self.turnover += maker.price * traded
        self._resting = [o for o in self._resting if o.remaining]
        if remaining and limit is not None and time_in_force is TimeInForce.DAY:
            self._arrivals += 1
            self._resting.append(_Resting(self._arrivals, order_id, side, limit, remaining))
            return MatchResult(order_id, quantity, executions, remaining, 0)
        return MatchResult(order_id, quantity, executions, 0, remaining)

    def cancel(self, order_id: str) -> int | None:
        """Remove a resting order; the quantity removed, or None if unknown or already done."""
        for index, order in enumerate(self._resting):
            if order.order_id == order_id:
                del self._resting[index]
                return order.remaining
        return None

    def remaining(self, order_id: str) -> int | None:
        """Open quantity of a resting order, None if it is not resting."""
        return next((o.remaining for o in self._resting if o.order_id == order_id), None)

    def __len__(self) -> int:
        return len(self._resting)

    @property
    def best_bid(self) -> Decimal | None:
        """Highest resting buy price."""
        return max((o.price for o in self._resting if o.side is Side.BUY), default=None)

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest resting sell price."""
        return min((o.price for o in self._resting if o.side is Side.SELL), default=None)

    def depth(self, levels: int = 10) -> Depth:
        """The best `levels` price levels of each side as (price, quantity, order_count)."""
        return Depth(self._aggregate(Side.BUY, levels), self._aggregate(Side.SELL, levels))

    def _aggregate(self, side: Side, levels: int) -> tuple[DepthLevel, ...]:
        result: list[DepthLevel] = []
        for order in self._queue(side):
            if result and result[-1].price == order.price:
                last = result[-1]
                result[-1] = DepthLevel(last.price, last.quantity + order.remaining, last.orders + 1)
            elif len(result) < levels:
                result.append(DepthLevel(order.price, order.remaining, 1))
            else:
                break
        return tuple(result)
