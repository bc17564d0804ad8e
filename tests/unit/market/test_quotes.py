"""Level-1/Level-2 quotes, minute bars, IOPV and the delay buffer."""

from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest

from brokerql.domain.common import OrderType, Side
from brokerql.domain.market.book import OrderBook
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS, PcfLine
from brokerql.domain.market.orders import Execution
from brokerql.domain.market.quotes import DelayBuffer, MinuteBars, QuoteState, iopv, premium_discount

T0 = datetime(2026, 5, 11, 9, 30)


def trade(price: str, qty: int, seq: int) -> Execution:
    return Execution("IF2612", D(price), qty, "m", "t", Side.BUY, seq)


def test_quote_state_tracks_the_day_and_top_of_book():
    inst = DEMO_INSTRUMENTS["600000"]
    book = OrderBook(inst.symbol, inst.tick_size)
    quotes = QuoteState(inst, book)
    empty = quotes.level1(T0)
    assert empty.last is None and empty.bid is None and empty.volume == 0 and empty.change is None
    book.submit("b", Side.BUY, OrderType.LIMIT, 500, D("13.50"))
    book.submit("s1", Side.SELL, OrderType.LIMIT, 300, D("13.55"))
    book.submit("s2", Side.SELL, OrderType.LIMIT, 300, D("13.60"))
    result = book.submit("t", Side.BUY, OrderType.LIMIT, 400, D("13.60"))
    q = quotes.update(result.executions, T0 + timedelta(seconds=1))
    assert (q.open, q.high, q.low, q.last) == (D("13.55"), D("13.60"), D("13.55"), D("13.60"))
    assert (q.volume, q.turnover) == (400, D("13.55") * 300 + D("13.60") * 100)
    assert (q.bid, q.bid_size, q.ask, q.ask_size) == (D("13.50"), 500, D("13.60"), 200)
    assert (q.prev_close, q.limit_up, q.limit_down) == (D("13.52"), D("14.87"), D("12.17"))
    assert q.change == D("0.08")
    assert quotes.update(result.executions, T0).volume == 400  # replayed executions are ignored
    level2 = quotes.depth(5)
    assert level2.bids == ((D("13.50"), 500, 1),) and level2.asks == ((D("13.60"), 200, 1),)
    assert level2.as_of == T0


def test_futures_turnover_uses_the_multiplier():
    inst = DEMO_INSTRUMENTS["IF2612"]
    quotes = QuoteState(inst, OrderBook(inst.symbol))
    quotes.apply([trade("4620.0", 2, 1)])
    assert quotes.turnover == D("4620.0") * 2 * 300 and quotes.volume == 2


def test_minute_bars():
    bars = MinuteBars("IF2612", multiplier=300)
    bars.add(trade("4620.0", 1, 1), T0 + timedelta(seconds=5))
    bars.add(trade("4621.0", 2, 2), T0 + timedelta(seconds=30))
    bars.add(trade("4619.0", 1, 3), T0 + timedelta(seconds=59))
    bars.extend([trade("4622.0", 3, 4)], T0 + timedelta(minutes=2, seconds=1))
    first, second = bars.bars()
    assert (first.start, first.open, first.high, first.low, first.close, first.volume) == (
        T0, D("4620.0"), D("4621.0"), D("4619.0"), D("4619.0"), 4,
    )  # fmt: skip
    assert first.turnover == (D("4620") + D("4621") * 2 + D("4619")) * 300
    assert second.start == T0 + timedelta(minutes=2) and bars.current == second
    bars.add(trade("4600.0", 1, 5), T0)  # late trade: folded into the newest bar
    assert len(bars.bars()) == 2 and bars.current.low == D("4600.0")


def test_minute_bars_are_bounded():
    bars = MinuteBars("X", max_bars=3)
    for minute in range(10):
        bars.add(trade("1.0", 1, minute + 1), T0 + timedelta(minutes=minute))
    assert [b.start.minute for b in bars.bars()] == [37, 38, 39]


def test_iopv_and_premium():
    pcf = (PcfLine("A", 1000), PcfLine("B", 500))
    nav = iopv(pcf, {"A": D("10.00"), "B": D("20.00")}, D("5000"), 10_000)
    assert nav == D("2.500")  # (10,000 + 10,000 + 5,000) / 10,000
    assert iopv(pcf, {"A": D("10.01"), "B": D("20.00")}, D("5000"), 10_000) == D("2.501")
    assert premium_discount(D("2.525"), nav) == D("0.010000")
    with pytest.raises(KeyError):
        iopv(pcf, {"A": D("10")}, D("0"), 10_000)


def test_delay_buffer_serves_the_newest_snapshot_at_least_delay_old():
    buffer: DelayBuffer[str] = DelayBuffer(timedelta(minutes=15))
    assert buffer.get(T0) is None
    buffer.push(T0, "a")
    buffer.push(T0 + timedelta(minutes=5), "b")
    buffer.push(T0 + timedelta(minutes=10), "c")
    assert buffer.get(T0 + timedelta(minutes=14, seconds=59)) is None
    assert buffer.get(T0 + timedelta(minutes=15)) == "a"
    assert buffer.get(T0 + timedelta(minutes=24)) == "b"
    assert buffer.get(T0 + timedelta(hours=2)) == "c"


def test_delay_buffer_memory_is_bounded_and_never_leaks_fresh_data():
    buffer: DelayBuffer[int] = DelayBuffer(timedelta(minutes=15), resolution=timedelta(seconds=1))
    for n in range(36_000):  # an hour of 10 snapshots a second
        at = T0 + timedelta(milliseconds=100 * n)
        buffer.push(at, n)
    assert len(buffer) <= 15 * 60 + 2
    now = T0 + timedelta(milliseconds=100 * 35_999)
    got = buffer.get(now)
    taken = T0 + timedelta(milliseconds=100 * got)
    assert timedelta(minutes=15) <= now - taken <= timedelta(minutes=15, seconds=1)
