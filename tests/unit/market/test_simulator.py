"""Simulated liquidity: reproducible, two-sided from the start, within the board rules."""

import pytest

from brokerql.domain.common import OrderType, Side
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS, validate_order
from brokerql.domain.market.orders import MatchStatus
from brokerql.domain.market.sessions import TradingPhase
from brokerql.domain.market.simulator import LEVELS, MarketSimulator, SimActionKind, executions_of


def run(seed: int, symbol: str, steps: int = 300):
    sim = MarketSimulator(DEMO_INSTRUMENTS, seed=seed)
    inst = DEMO_INSTRUMENTS[symbol]
    book = sim.create_book(inst)
    actions = [sim.step(book, inst) for _ in range(steps)]
    return actions, book


def test_same_seed_same_actions():
    first, book1 = run(7, "600519")
    second, book2 = run(7, "600519")
    assert first == second and book1.depth() == book2.depth()
    assert run(8, "600519")[0] != first


def test_instruments_are_independent_of_stepping_order():
    a = MarketSimulator(DEMO_INSTRUMENTS, seed=3)
    b = MarketSimulator(DEMO_INSTRUMENTS, seed=3)
    x, y = DEMO_INSTRUMENTS["600000"], DEMO_INSTRUMENTS["00700"]
    bx, by = a.create_book(x), a.create_book(y)
    cy, cx = b.create_book(y), b.create_book(x)
    assert [a.step(bx, x) for _ in range(20)] == [b.step(cx, x) for _ in range(20)]
    assert by.depth() == cy.depth()


@pytest.mark.parametrize("symbol", sorted(DEMO_INSTRUMENTS))
def test_fresh_book_is_deep_and_a_marketable_order_fills_at_once(symbol):
    inst = DEMO_INSTRUMENTS[symbol]
    book = MarketSimulator(DEMO_INSTRUMENTS, seed=1).create_book(inst)
    depth = book.depth(LEVELS)
    assert len(depth.bids) == LEVELS and len(depth.asks) == LEVELS
    assert 1 <= _ticks_between(inst, depth.bids[0].price, depth.asks[0].price) <= 3
    buy = book.submit("client-1", Side.BUY, OrderType.MARKET, inst.lot_size)
    assert buy.status is MatchStatus.FILLED and buy.executions[0].price == depth.asks[0].price
    sell = book.submit("client-2", Side.SELL, OrderType.LIMIT, inst.lot_size, depth.bids[0].price)
    assert sell.status is MatchStatus.FILLED


@pytest.mark.parametrize("symbol", ["600000", "688981", "00700", "IF2612", "510300"])
def test_a_simulated_day_respects_rules_and_stays_two_sided(symbol):
    inst = DEMO_INSTRUMENTS[symbol]
    actions, book = run(11, symbol, steps=1500)
    flat = [a for step in actions for a in step]
    assert any(a.kind is SimActionKind.CANCEL for a in flat)
    assert executions_of(flat), "simulated takers should trade sometimes"
    for action in flat:
        if action.kind is SimActionKind.ADD:
            errors = validate_order(
                inst,
                action.side,
                OrderType.LIMIT,
                action.price,
                action.quantity,
                phase=TradingPhase.CONTINUOUS,
            )
            assert errors == [], (action, errors)
    depth = book.depth(LEVELS)
    assert len(depth.bids) == LEVELS and len(depth.asks) == LEVELS
    assert depth.bids[0].price < depth.asks[0].price
    assert len(book) < 200, "the simulator's own resting orders must not pile up"


def test_simulated_taker_can_fill_a_client_order():
    inst = DEMO_INSTRUMENTS["000001"]
    sim = MarketSimulator(DEMO_INSTRUMENTS, seed=5)
    book = sim.create_book(inst)
    placed = book.submit("client", Side.BUY, OrderType.LIMIT, 100, book.best_bid)  # joins the queue's back
    assert placed.resting_quantity == 100
    fills = []
    for _ in range(2000):
        fills += [e for e in executions_of(sim.step(book, inst)) if e.maker_order_id == "client"]
        if "client" not in book:
            break
    assert sum(e.quantity for e in fills) == 100


def _ticks_between(inst, low, high) -> int:
    n = 0
    while low < high:
        low = inst.price_up(low)
        n += 1
    return n
