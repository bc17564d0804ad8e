"""Property tests: the fast OrderBook behaves exactly like the naive ReferenceBook."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.book import OrderBook
from tests.reference_book import ReferenceBook

TICK = Decimal("0.01")
prices = st.integers(min_value=990, max_value=1010).map(lambda n: n * TICK)
submits = st.tuples(
    st.just("submit"),
    st.sampled_from(Side),
    st.sampled_from([OrderType.LIMIT] * 4 + [OrderType.MARKET]),
    st.integers(min_value=1, max_value=8).map(lambda lots: lots * 100),
    prices,
    st.sampled_from([TimeInForce.DAY] * 4 + [TimeInForce.IOC, TimeInForce.FOK]),
    st.integers(min_value=1, max_value=5),
)
cancels = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=200))
flows = st.lists(st.one_of(submits, submits, cancels), min_size=5, max_size=150)


def check_invariants(book: OrderBook) -> None:
    depth = book.depth(10_000)
    if depth.bids and depth.asks:
        assert depth.bids[0].price < depth.asks[0].price, "crossed book"
    assert [lvl.price for lvl in depth.bids] == sorted((lvl.price for lvl in depth.bids), reverse=True)
    assert [lvl.price for lvl in depth.asks] == sorted(lvl.price for lvl in depth.asks)
    assert all(lvl.quantity > 0 and lvl.orders > 0 for lvl in depth.bids + depth.asks)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows)
def test_book_matches_reference(flow):
    fast, slow = OrderBook("X", TICK), ReferenceBook("X", TICK)
    submitted = filled = canceled = 0
    arrival: dict[str, int] = {}
    for n, step in enumerate(flow):
        if step[0] == "cancel":
            order_id = f"o{step[1] % (n + 1)}"
            removed = fast.cancel(order_id)
            assert removed == slow.cancel(order_id)
            canceled += removed or 0
            continue
        _, side, order_type, qty, price, tif, protect = step
        order_id = f"o{n}"
        arrival[order_id] = n
        args = (
            order_id,
            side,
            order_type,
            qty,
            None if order_type is OrderType.MARKET else price,
            tif,
            protect,
        )
        got, want = fast.submit(*args), slow.submit(*args)
        assert got == want
        submitted += qty
        filled += got.filled_quantity
        canceled += got.canceled_quantity
        for prev, execution in zip(got.executions, got.executions[1:], strict=False):
            # Price-time priority: never a worse price first; within a price, earlier arrivals first.
            better = prev.price < execution.price if side is Side.BUY else prev.price > execution.price
            same_price_fifo = prev.price == execution.price and (
                arrival[prev.maker_order_id] < arrival[execution.maker_order_id]
            )
            assert better or same_price_fifo
        for execution in got.executions:
            assert execution.price <= price if side is Side.BUY and order_type is OrderType.LIMIT else True
            assert execution.price >= price if side is Side.SELL and order_type is OrderType.LIMIT else True
        check_invariants(fast)
        assert fast.depth(10_000) == slow.depth(10_000)
    resting = sum(lvl.quantity for lvl in fast.depth(10_000).bids + fast.depth(10_000).asks)
    # Each unit traded consumed two orders (taker and maker); the rest is resting or was cancelled.
    assert submitted == 2 * filled + resting + canceled
    assert (fast.volume, fast.turnover, fast.last_price) == (slow.volume, slow.turnover, slow.last_price)
    assert fast.volume == filled
