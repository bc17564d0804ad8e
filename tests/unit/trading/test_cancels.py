"""D3 cancel selection: every scope, its missing arguments, and finished orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokerql.domain.common import Side
from brokerql.domain.trading import CancelCondition, CancelScope, OrderStatus, select_orders_to_cancel
from tests.unit.trading.factories import at, make_order

S = OrderStatus


@pytest.fixture
def book():
    return [
        make_order(S.NEW, id="b1", side=Side.BUY, symbol="600000", price="10.00", created=1),
        make_order(S.PARTIALLY_FILLED, id="s1", side=Side.SELL, symbol="600000", price="10.50", created=2),
        make_order(S.NEW, id="b2", side=Side.BUY, symbol="000001", price="12.00", created=3),
        make_order(S.NEW, id="m1", side=Side.BUY, symbol="000001", price=None, created=4),
        make_order(S.PENDING_CANCEL, id="pc", symbol="600000", created=5),
        make_order(S.FILLED, id="f1", created=0),
        make_order(S.CANCELED, id="c1", created=0),
    ]


def ids(orders):
    return [o.id for o in orders]


def codes(rejections):
    return [r.code for r in rejections]


def test_one(book):
    chosen, rejections = select_orders_to_cancel(book, CancelScope.ONE, order_ids=["b2"])
    assert (ids(chosen), rejections) == (["b2"], [])


def test_one_needs_exactly_one_id(book):
    assert codes(select_orders_to_cancel(book, CancelScope.ONE)[1]) == ["MISSING_ARGUMENT"]
    assert codes(select_orders_to_cancel(book, CancelScope.ONE, order_ids=["b1", "b2"])[1]) == ["INVALID_ARGUMENT"]


def test_last_is_the_most_recent_cancelable_order(book):
    assert ids(select_orders_to_cancel(book, CancelScope.LAST)[0]) == ["m1"]  # pc is already pending
    assert ids(select_orders_to_cancel(book, CancelScope.LAST, side=Side.SELL)[0]) == ["s1"]


def test_last_with_nothing_working_is_not_found():
    chosen, rejections = select_orders_to_cancel([make_order(S.FILLED)], CancelScope.LAST)
    assert (chosen, codes(rejections)) == ([], ["NOT_FOUND"])


def test_symbol(book):
    assert ids(select_orders_to_cancel(book, CancelScope.SYMBOL, symbol="600000")[0]) == ["b1", "s1"]
    assert ids(select_orders_to_cancel(book, CancelScope.SYMBOL, symbol="600000", side=Side.BUY)[0]) == ["b1"]
    assert codes(select_orders_to_cancel(book, CancelScope.SYMBOL)[1]) == ["MISSING_ARGUMENT"]


def test_selected_explains_each_miss(book):
    chosen, rejections = select_orders_to_cancel(
        book, CancelScope.SELECTED, order_ids=["b1", "nope", "f1", "c1", "pc", "b1", "s1"]
    )
    assert ids(chosen) == ["b1", "s1"]  # duplicate id counted once
    assert codes(rejections) == ["NOT_FOUND", "TOO_LATE_TO_CANCEL", "ORDER_NOT_WORKING", "CANCEL_PENDING"]
    assert all(r.field == "orderIds" for r in rejections)
    assert codes(select_orders_to_cancel(book, CancelScope.SELECTED, order_ids=[])[1]) == ["MISSING_ARGUMENT"]


def test_condition(book):
    cond = CancelCondition(side=Side.BUY, max_price=Decimal("11"))
    assert ids(select_orders_to_cancel(book, CancelScope.CONDITION, condition=cond)[0]) == ["b1"]
    cond = CancelCondition(min_price=Decimal("10.01"))  # market orders have no price to compare
    assert ids(select_orders_to_cancel(book, CancelScope.CONDITION, condition=cond)[0]) == ["s1", "b2"]
    cond = CancelCondition(placed_before=at(3))
    assert ids(select_orders_to_cancel(book, CancelScope.CONDITION, condition=cond)[0]) == ["b1", "s1"]
    cond = CancelCondition(symbol="000001")
    assert ids(select_orders_to_cancel(book, CancelScope.CONDITION, condition=cond)[0]) == ["b2", "m1"]


def test_condition_must_say_something_sensible(book):
    for cond in (None, CancelCondition()):
        assert codes(select_orders_to_cancel(book, CancelScope.CONDITION, condition=cond)[1]) == ["MISSING_ARGUMENT"]
    bad = CancelCondition(min_price=Decimal("12"), max_price=Decimal("11"))
    assert codes(select_orders_to_cancel(book, CancelScope.CONDITION, condition=bad)[1]) == ["INVALID_ARGUMENT"]


def test_all(book):
    assert ids(select_orders_to_cancel(book, CancelScope.ALL)[0]) == ["b1", "s1", "b2", "m1"]
    assert ids(select_orders_to_cancel(book, CancelScope.ALL, side=Side.SELL)[0]) == ["s1"]
    assert select_orders_to_cancel([], CancelScope.ALL) == ([], [])
