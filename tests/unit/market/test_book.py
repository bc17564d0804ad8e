"""Matching engine examples: priority, partial fills, market protection, IOC/FOK, cancel, depth."""

from decimal import Decimal as D

import pytest

from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.book import OrderBook
from brokerql.domain.market.orders import MatchStatus
from tests.reference_book import ReferenceBook

BUY, SELL, LIMIT, MARKET = Side.BUY, Side.SELL, OrderType.LIMIT, OrderType.MARKET


@pytest.fixture(params=[OrderBook, ReferenceBook])
def book(request):
    return request.param("600000", D("0.01"))


def ladder(book, side, prices, qty=100, prefix="m"):
    for n, price in enumerate(prices):
        book.submit(f"{prefix}{n}", side, LIMIT, qty, D(price))


def test_price_time_priority_and_maker_price(book):
    book.submit("a", SELL, LIMIT, 100, D("10.02"))
    book.submit("b", SELL, LIMIT, 100, D("10.01"))
    book.submit("c", SELL, LIMIT, 100, D("10.01"))
    result = book.submit("t", BUY, LIMIT, 250, D("10.05"))
    assert [(e.maker_order_id, e.price, e.quantity) for e in result.executions] == [
        ("b", D("10.01"), 100),
        ("c", D("10.01"), 100),
        ("a", D("10.02"), 50),
    ]
    assert [e.seq for e in result.executions] == [1, 2, 3]
    assert result.status is MatchStatus.FILLED and result.average_price == D("10.012")
    assert book.remaining("a") == 50 and book.last_price == D("10.02") and book.volume == 250
    assert book.turnover == D("10.01") * 200 + D("10.02") * 50


def test_limit_remainder_rests(book):
    book.submit("a", SELL, LIMIT, 100, D("10.01"))
    result = book.submit("t", BUY, LIMIT, 300, D("10.01"))
    assert (result.filled_quantity, result.resting_quantity, result.status) == (100, 200, "PARTIALLY_FILLED")
    assert book.best_bid == D("10.01") and book.best_ask is None
    assert book.submit("u", BUY, LIMIT, 100, D("9.99")).status is MatchStatus.NEW


def test_market_order_sweeps_at_most_five_levels_and_cancels_the_rest(book):
    ladder(book, SELL, ["10.01", "10.02", "10.03", "10.04", "10.05", "10.06"])
    result = book.submit("t", BUY, MARKET, 1000)
    assert [e.price for e in result.executions] == [D(p) for p in ("10.01", "10.02", "10.03", "10.04", "10.05")]
    assert (result.filled_quantity, result.canceled_quantity, result.resting_quantity) == (500, 500, 0)
    assert result.status is MatchStatus.CANCELED
    assert book.best_ask == D("10.06")


def test_market_order_on_empty_side_is_cancelled(book):
    result = book.submit("t", SELL, MARKET, 100)
    assert result.executions == [] and result.canceled_quantity == 100 and len(book) == 0


def test_ioc_never_rests(book):
    book.submit("a", BUY, LIMIT, 100, D("10.00"))
    result = book.submit("t", SELL, LIMIT, 300, D("10.00"), TimeInForce.IOC)
    assert (result.filled_quantity, result.canceled_quantity) == (100, 200)
    assert book.best_ask is None


def test_fok_is_all_or_nothing_without_side_effects(book):
    ladder(book, SELL, ["10.01", "10.02"])
    before = book.depth()
    result = book.submit("t", BUY, LIMIT, 300, D("10.02"), TimeInForce.FOK)
    assert result.executions == [] and result.canceled_quantity == 300
    assert book.depth() == before and book.volume == 0
    result = book.submit("u", BUY, LIMIT, 200, D("10.02"), TimeInForce.FOK)
    assert result.status is MatchStatus.FILLED and len(book) == 0


def test_cancel(book):
    book.submit("a", BUY, LIMIT, 100, D("10.00"))
    book.submit("b", BUY, LIMIT, 200, D("10.00"))
    assert book.cancel("a") == 100
    assert book.cancel("a") is None and book.cancel("nope") is None
    assert book.depth().bids == ((D("10.00"), 200, 1),)
    result = book.submit("t", SELL, LIMIT, 200, D("10.00"))
    assert [e.maker_order_id for e in result.executions] == ["b"]
    assert book.cancel("b") is None  # filled: nothing left to cancel


def test_depth_is_best_first_and_aggregated(book):
    ladder(book, BUY, ["10.00", "9.99", "10.00", "9.98"], prefix="b")
    ladder(book, SELL, ["10.02", "10.01"], qty=300, prefix="s")
    depth = book.depth(2)
    assert depth.bids == ((D("10.00"), 200, 2), (D("9.99"), 100, 1))
    assert depth.asks == ((D("10.01"), 300, 1), (D("10.02"), 300, 1))
    assert book.best_bid == D("10.00") and book.best_ask == D("10.01")


def test_duplicate_resting_id_and_bad_input_raise(book):
    book.submit("a", BUY, LIMIT, 100, D("10.00"))
    with pytest.raises(ValueError):
        book.submit("a", BUY, LIMIT, 100, D("10.00"))
    with pytest.raises(ValueError):
        book.submit("z", BUY, LIMIT, 0, D("10.00"))
    with pytest.raises(ValueError):
        book.submit("z", BUY, LIMIT, 100)


def test_order_book_extras():
    book = OrderBook("600000")
    book.submit("a", BUY, LIMIT, 100, D("10.00"))
    book.submit("b", SELL, "LIMIT", 300, "10.05", "DAY")  # plain strings are coerced
    assert book.resting_order("b") == ("b", SELL, D("10.05"), 300)
    assert "a" in book and book.resting_order("zz") is None
    assert book.cancel("a") == 100 and book.cancel("b") == 300
    assert len(book) == 0 and book.depth() == ((), ())


def test_lazy_cancel_keeps_levels_exact():
    book = OrderBook("600000")
    for n in range(100):
        book.submit(f"o{n}", BUY, LIMIT, 100, D("10.00"))
    for n in range(0, 99):
        book.cancel(f"o{n}")
    assert book.depth().bids == ((D("10.00"), 100, 1),)
    result = book.submit("t", SELL, LIMIT, 500, D("10.00"))
    assert [(e.maker_order_id, e.quantity) for e in result.executions] == [("o99", 100)]
    assert book.best_bid is None and result.resting_quantity == 400
