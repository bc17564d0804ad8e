"""The order state machine: the transition table, fills, avg price and clientOrderId idempotency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading import (
    TRANSITIONS,
    EventKind,
    Fees,
    InvalidFill,
    InvalidTransition,
    OrderError,
    OrderFilled,
    OrderStatus,
    duplicate_client_order_id,
)
from tests.unit.trading.factories import at, make_event, make_order

S, K = OrderStatus, EventKind


def fill(order, qty: int, price: str, fill_id: str = "f", fees: str = "0"):
    return OrderFilled(
        order_id=order.id,
        ts=at(1),
        fill_id=fill_id,
        price=Decimal(price),
        quantity=qty,
        fees=Fees(Decimal(fees)),
    )


@pytest.mark.parametrize(("status", "kind"), sorted(TRANSITIONS))
def test_every_allowed_transition_lands_where_the_table_says(status, kind):
    order = make_order(status)
    order.apply(make_event(kind, order))
    assert order.status is TRANSITIONS[(status, kind)]
    assert order.updated_at == at(60)


FORBIDDEN = [
    (S.PENDING_NEW, K.FILL),
    (S.PENDING_NEW, K.CANCEL_REQUESTED),
    (S.NEW, K.ACCEPTED),
    (S.NEW, K.REJECTED),
    (S.NEW, K.CANCEL_REJECTED),
    (S.PENDING_CANCEL, K.CANCEL_REQUESTED),
    (S.FILLED, K.FILL),
    (S.FILLED, K.CANCELED),
    (S.CANCELED, K.FILL),
    (S.CANCELED, K.CANCELED),
    (S.REJECTED, K.ACCEPTED),
    (S.EXPIRED, K.FILL),
    (S.EXPIRED, K.CANCEL_REQUESTED),
]


@pytest.mark.parametrize(("status", "kind"), FORBIDDEN)
def test_forbidden_transitions_raise_and_change_nothing(status, kind):
    order = make_order(status)
    before = (order.status, order.cum_qty, order.leaves_qty, order.updated_at)
    with pytest.raises(InvalidTransition):
        order.apply(make_event(kind, order))
    assert (order.status, order.cum_qty, order.leaves_qty, order.updated_at) == before


def test_terminal_states_accept_nothing_but_a_late_cancel_reject_on_filled():
    for status in S:
        allowed = {k for (s, k) in TRANSITIONS if s is status}
        if status.is_terminal:
            assert allowed <= {K.CANCEL_REJECTED}
            assert allowed == ({K.CANCEL_REJECTED} if status is S.FILLED else set())


def test_status_helpers():
    assert {s for s in S if s.is_working} == {S.NEW, S.PARTIALLY_FILLED, S.PENDING_CANCEL}
    assert {s for s in S if s.is_terminal} == {S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED}
    assert {s for s in S if s.is_cancelable} == {S.NEW, S.PARTIALLY_FILLED}


def test_fills_walk_new_to_partially_filled_to_filled():
    order = make_order(S.NEW)
    order.apply(fill(order, 100, "10.00"))
    assert (order.status, order.cum_qty, order.leaves_qty) == (S.PARTIALLY_FILLED, 100, 300)
    order.apply(fill(order, 300, "10.00"))
    assert (order.status, order.cum_qty, order.leaves_qty) == (S.FILLED, 400, 0)


def test_fill_while_pending_cancel_keeps_pending_cancel_until_it_completes():
    order = make_order(S.PENDING_CANCEL)
    order.apply(fill(order, 100, "9.99"))
    assert order.status is S.PENDING_CANCEL
    order.apply(fill(order, 300, "9.99"))
    assert order.status is S.FILLED


def test_cancel_reject_returns_to_partially_filled_when_shares_traded():
    order = make_order(S.NEW)
    order.apply(fill(order, 100, "10.00"))
    order.apply(make_event(K.CANCEL_REQUESTED, order))
    order.apply(make_event(K.CANCEL_REJECTED, order))
    assert order.status is S.PARTIALLY_FILLED


def test_overfill_raises_and_leaves_the_order_untouched():
    order = make_order(S.NEW, quantity=200)
    order.apply(fill(order, 150, "10.00"))
    with pytest.raises(InvalidFill, match="overfills"):
        order.apply(fill(order, 51, "10.00"))
    assert (order.cum_qty, order.leaves_qty, order.status) == (150, 50, S.PARTIALLY_FILLED)


@pytest.mark.parametrize(("side", "price"), [(Side.BUY, "10.01"), (Side.SELL, "9.99")])
def test_fill_through_the_limit_raises(side, price):
    order = make_order(S.NEW, side=side)
    with pytest.raises(InvalidFill, match="through"):
        order.apply(fill(order, 100, price))


@pytest.mark.parametrize(("qty", "price"), [(0, "10.00"), (-100, "10.00"), (100, "0")])
def test_non_positive_fill_raises(qty, price):
    order = make_order(S.NEW)
    with pytest.raises(InvalidFill):
        order.apply(fill(order, qty, price))


def test_avg_px_is_exact_notional_over_quantity():
    order = make_order(S.NEW, price="10.05")
    order.apply(fill(order, 100, "10.01", "f1"))
    order.apply(fill(order, 300, "10.02", "f2"))
    assert order.notional == Decimal("4007.00")  # 1001.00 + 3006.00, nothing rounded
    assert order.avg_px == Decimal("10.0175")
    assert order.avg_px_exact == Decimal("10.0175")


def test_avg_px_rounds_for_display_only():
    order = make_order(S.NEW, price="10.05", quantity=300)
    order.apply(fill(order, 100, "10.01", "f1"))
    order.apply(fill(order, 200, "10.02", "f2"))
    assert order.notional == Decimal("3005.00")
    assert order.avg_px == Decimal("10.0167")
    assert order.avg_px_exact * 300 != order.avg_px * 300  # display value is not money
    assert make_order(S.NEW).avg_px is None


def test_fees_accumulate_on_the_order():
    order = make_order(S.NEW)
    order.apply(fill(order, 100, "10.00", fees="5.00"))
    order.apply(fill(order, 100, "10.00", fees="0.02"))
    assert order.fees_paid == Decimal("5.02")


def test_cancel_must_take_exactly_the_remainder():
    order = make_order(S.PARTIALLY_FILLED)
    event = make_event(K.CANCELED, order)
    wrong = type(event)(order_id=order.id, ts=at(2), canceled_quantity=order.leaves_qty - 1)
    with pytest.raises(InvalidTransition):
        order.apply(wrong)
    order.apply(event)
    assert (order.status, order.leaves_qty, order.cum_qty) == (S.CANCELED, 0, 100)


def test_terminal_events_zero_leaves_and_frozen_cash():
    for kind, status in ((K.EXPIRED, S.EXPIRED), (K.CANCELED, S.CANCELED)):
        order = make_order(S.NEW)
        order.frozen_cash = Decimal("4010")
        order.apply(make_event(kind, order))
        assert (order.status, order.leaves_qty, order.frozen_cash) == (status, 0, 0)


def test_rejection_records_code():
    order = make_order()
    order.apply(make_event(K.REJECTED, order))
    assert (order.status, order.reject_code, order.leaves_qty) == (S.REJECTED, "INSUFFICIENT_FUNDS", 0)


def test_event_for_another_order_raises():
    order = make_order(S.NEW)
    other = make_order(S.NEW, id="o2")
    with pytest.raises(OrderError):
        order.apply(make_event(K.EXPIRED, other))


def test_new_order_validation():
    assert make_order().leaves_qty == 400
    with pytest.raises(ValueError):
        make_order(quantity=0)
    with pytest.raises(ValueError):
        make_order(price="0")


def test_same_request_for_client_order_id_idempotency():
    order = make_order(S.NEW)
    same = dict(account_id="a1", symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=400)
    assert order.same_request(**same, price=Decimal("10.0"))  # 10.0 == 10.00: same price
    assert not order.same_request(**same, price=Decimal("10.01"))
    assert not order.same_request(**{**same, "quantity": 500}, price=Decimal("10"))
    assert not order.same_request(**{**same, "side": Side.SELL}, price=Decimal("10"))
    rejection = duplicate_client_order_id("abc")
    assert (rejection.code, rejection.field) == ("DUPLICATE_CLIENT_ORDER_ID", "clientOrderId")


def test_event_kinds_match_the_public_stream():
    assert {k.value for k in K} == {
        "ACCEPTED",
        "REJECTED",
        "FILL",
        "CANCEL_REQUESTED",
        "CANCELED",
        "CANCEL_REJECTED",
        "EXPIRED",
    }
