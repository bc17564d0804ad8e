"""Simulated liquidity providers: keep every book two-sided and moving, reproducibly from a seed.

Choice made here: `step` and `seed_book` APPLY their actions to the book they are given and return
them, each ADD carrying the executions it caused. The caller must route those executions: a
simulated aggressive order may trade against a client's resting order, which is then a client fill.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.book import OrderBook
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.orders import DepthLevel, Execution

LEVELS = 10  # depth kept on each side
_STALE_TICKS = 12  # quotes further than this from fair value are pulled


class SimActionKind(StrEnum):
    """What a simulated participant did."""

    ADD = "ADD"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class SimAction:
    """One simulated order or cancel, with what the book made of it.

    ADD: `quantity` submitted at `price` (IOC when aggressive), `executions` it traded, `resting` left
    on the book. CANCEL: `quantity` is what the cancel removed.
    """

    kind: SimActionKind
    order_id: str
    side: Side
    price: Decimal
    quantity: int
    time_in_force: TimeInForce = TimeInForce.DAY
    executions: tuple[Execution, ...] = ()
    resting: int = 0


@dataclass
class _State:
    rng: random.Random
    fair: Decimal
    next_id: int = 0
    own: dict[str, Side] = field(default_factory=dict)  # insertion-ordered: deterministic iteration


def executions_of(actions: Iterable[SimAction]) -> list[Execution]:
    """All executions caused by `actions`, in sequence order."""
    return [execution for action in actions for execution in action.executions]


class MarketSimulator:
    """Market makers quoting ten levels a side around a mean-reverting random walk per instrument.

    Each instrument gets its own `random.Random` derived from (seed, symbol), so its flow does not
    depend on the order in which the caller steps the instruments. Quantities respect the board lot,
    prices the tick table and the daily price limits.
    """

    def __init__(self, instruments: Mapping[str, Instrument] | Iterable[Instrument], seed: int = 0) -> None:
        values = instruments.values() if isinstance(instruments, Mapping) else instruments
        self.instruments = {i.symbol: i for i in values}
        self.seed = seed
        self._states: dict[str, _State] = {}

    def _state(self, instrument: Instrument) -> _State:
        state = self._states.get(instrument.symbol)
        if state is None:
            rng = random.Random(f"{self.seed}:{instrument.symbol}")
            state = self._states[instrument.symbol] = _State(rng, instrument.prev_close)
        return state

    def create_book(self, instrument: Instrument) -> OrderBook:
        """A new book for `instrument`, already seeded with depth on both sides."""
        book = OrderBook(instrument.symbol, instrument.tick_size)
        self.seed_book(book, instrument)
        return book

    def seed_book(self, book: OrderBook, instrument: Instrument) -> list[SimAction]:
        """Quote every missing level on both sides, 1-3 orders each, so a marketable order fills at once."""
        state = self._state(instrument)
        return [action for _ in range(3) for action in self._replenish(book, instrument, state, extra=0.5)]

    def step(self, book: OrderBook, instrument: Instrument) -> list[SimAction]:
        """One tick of simulated activity: move fair value, pull stale quotes, trade sometimes, requote."""
        state = self._state(instrument)
        rng = state.rng
        self._walk(instrument, state)
        actions = self._pull_stale(book, instrument, state)
        roll = rng.random()
        bursts = rng.randint(3, 6) if roll < 0.02 else 1 if roll < 0.15 else 0
        for _ in range(bursts):
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            if (action := self._aggress(book, instrument, state, side)) is not None:
                actions.append(action)
        actions.extend(self._replenish(book, instrument, state))
        return actions

    def requote(self, book: OrderBook, instrument: Instrument) -> list[SimAction]:
        """Keep the book liquid around the current fair value without moving it or trading (replay mode)."""
        state = self._state(instrument)
        return self._pull_stale(book, instrument, state) + self._replenish(book, instrument, state)

    def follow(self, book: OrderBook, instrument: Instrument, price: Decimal) -> list[SimAction]:
        """Re-centre the quotes on an externally given price (a replayed trade), then requote.

        Prices off the tick grid or outside today's limits leave the fair value where it was.
        """
        state = self._state(instrument)
        low, high = instrument.limit_down, instrument.limit_up
        if (
            price > 0
            and instrument.on_tick(price)
            and (low is None or price >= low)
            and (high is None or price <= high)
        ):
            state.fair = price
        return self.requote(book, instrument)

    def _walk(self, instrument: Instrument, state: _State) -> None:
        rng = state.rng
        if rng.random() >= 0.3:
            return
        # Mild pull back towards yesterday's close keeps a long demo day away from the limits.
        drift = float(state.fair / instrument.prev_close - 1)
        up = rng.random() < min(0.8, max(0.2, 0.5 - 2 * drift))
        fair = instrument.price_up(state.fair) if up else instrument.price_down(state.fair)
        low, high = instrument.limit_down, instrument.limit_up
        if fair > 0 and (low is None or fair >= low) and (high is None or fair <= high):
            state.fair = fair

    def _quantity(self, instrument: Instrument, rng: random.Random) -> int:
        price = instrument.prev_close * instrument.multiplier
        max_lots = 5 if price >= 500 else 30 if price >= 20 else 100
        return instrument.lot_size * rng.randint(1, max_lots)

    def _add(self, book: OrderBook, state: _State, side: Side, price: Decimal, qty: int, tif: TimeInForce) -> SimAction:
        state.next_id += 1
        order_id = f"SIM-{book.symbol}-{state.next_id}"
        result = book.submit(order_id, side, OrderType.LIMIT, qty, price, tif)
        if result.resting_quantity:
            state.own[order_id] = side
        kind = SimActionKind.ADD
        return SimAction(kind, order_id, side, price, qty, tif, tuple(result.executions), result.resting_quantity)

    def _pull_stale(self, book: OrderBook, instrument: Instrument, state: _State) -> list[SimAction]:
        for order_id in [oid for oid in state.own if oid not in book]:
            del state.own[order_id]  # filled meanwhile
        lowest = instrument.price_down(state.fair, _STALE_TICKS)
        highest = instrument.price_up(state.fair, _STALE_TICKS)
        actions: list[SimAction] = []
        candidates = list(state.own.items())
        # A random pull now and then keeps queues churning even when the price stands still.
        churn = state.rng.choice(candidates)[0] if candidates and state.rng.random() < 0.5 else None
        for order_id, side in candidates:
            price = book.resting_order(order_id).price
            if side is Side.BUY:
                stale = price > state.fair or price < lowest
            else:
                stale = price <= state.fair or price > highest
            if stale or order_id == churn:
                removed = book.cancel(order_id)
                del state.own[order_id]
                actions.append(SimAction(SimActionKind.CANCEL, order_id, side, price, removed or 0))
        return actions

    def _aggress(self, book: OrderBook, instrument: Instrument, state: _State, side: Side) -> SimAction | None:
        # An IOC at the opposite best: takes liquidity from one level only, as small real takers do.
        price = book.best_ask if side is Side.BUY else book.best_bid
        if price is None:
            return None
        return self._add(book, state, side, price, self._quantity(instrument, state.rng), TimeInForce.IOC)

    def _replenish(
        self, book: OrderBook, instrument: Instrument, state: _State, extra: float = 0.05
    ) -> list[SimAction]:
        rng = state.rng
        depth = book.depth(LEVELS + 2)
        # Inside quotes 0-1 tick below and 1-2 ticks above fair: spreads of 1-3 ticks.
        bid = instrument.price_down(state.fair, rng.choice((0, 0, 1)))
        ask = instrument.price_up(state.fair, rng.choice((1, 1, 2)))
        actions = self._quote_side(book, instrument, state, Side.BUY, bid, depth.bids, book.best_ask, extra)
        actions += self._quote_side(book, instrument, state, Side.SELL, ask, depth.asks, book.best_bid, extra)
        return actions

    def _quote_side(
        self,
        book: OrderBook,
        instrument: Instrument,
        state: _State,
        side: Side,
        price: Decimal,
        levels: tuple[DepthLevel, ...],
        opposite_best: Decimal | None,
        extra: float,
    ) -> list[SimAction]:
        rng = state.rng
        counts = {level.price: level.orders for level in levels}
        low, high = instrument.limit_down, instrument.limit_up
        actions: list[SimAction] = []
        for _ in range(LEVELS):
            if price <= 0 or (low is not None and price < low) or (high is not None and price > high):
                break
            # Never cross a resting opposite order (maybe a client's): taking is _aggress's job.
            passive = opposite_best is None or (price < opposite_best if side is Side.BUY else price > opposite_best)
            orders = counts.get(price, 0)
            if passive and (orders == 0 or (orders < 3 and rng.random() < extra)):
                qty = self._quantity(instrument, rng)
                actions.append(self._add(book, state, side, price, qty, TimeInForce.DAY))
            price = instrument.price_down(price) if side is Side.BUY else instrument.price_up(price)
        return actions
