"""The codec: every command and event round-trips exactly; what a process cannot read is parked, not raised."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerql.bus import codec
from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.identity.onboarding import AccountOpened, ClientCreated
from brokerql.domain.research.messages import ArticlePublished
from brokerql.domain.trading.events import Liquidity
from brokerql.domain.trading.fees import Fees
from brokerql.domain.trading.gateway import CancelOrder, ExecType, ExecutionReport, SubmitOrder
from brokerql.domain.trading.messages import AccountEvent, AccountEventKind, FillView, OrderView
from brokerql.domain.trading.orders import OrderStatus

ids = st.text("abcdef0123456789_", min_size=1, max_size=24)
money = st.decimals(min_value=Decimal("0"), max_value=Decimal("1e9"), places=4, allow_nan=False)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=3, allow_nan=False)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
quantities = st.integers(0, 10**9)

orders = st.builds(
    OrderView,
    id=ids,
    account_id=ids,
    client_order_id=st.none() | ids,
    symbol=ids,
    side=st.sampled_from(Side),
    type=st.sampled_from(OrderType),
    time_in_force=st.sampled_from(TimeInForce),
    price=st.none() | prices,
    quantity=quantities,
    status=st.sampled_from(OrderStatus),
    cum_qty=quantities,
    leaves_qty=quantities,
    notional=money,
    fees_paid=money,
    frozen_cash=money,
    reject_code=st.none() | ids,
    reject_reason=st.none() | st.text(max_size=40),
    created_at=times,
    updated_at=times,
)
fills = st.builds(
    FillView,
    id=ids,
    exec_id=ids,
    order_id=ids,
    symbol=ids,
    side=st.sampled_from(Side),
    price=prices,
    quantity=quantities,
    fees=st.builds(Fees, money, money, money),
    liquidity=st.none() | st.sampled_from(Liquidity),
    at=times,
)
MESSAGES = {
    "AccountEvent": st.builds(
        AccountEvent,
        account_id=ids,
        seq=st.integers(1, 10**12),
        kind=st.sampled_from(AccountEventKind),
        at=times,
        order=st.none() | orders,
        fill=st.none() | fills,
        code=st.none() | ids,
        reason=st.none() | st.text(max_size=40),
        trading_day=st.none() | st.dates().map(str),
    ),
    "SubmitOrder": st.builds(
        SubmitOrder,
        order_id=ids,
        account_id=ids,
        symbol=ids,
        side=st.sampled_from(Side),
        type=st.sampled_from(OrderType),
        price=st.none() | prices,
        quantity=quantities,
        time_in_force=st.sampled_from(TimeInForce),
        created_at=times,
    ),
    "CancelOrder": st.builds(CancelOrder, order_id=ids, symbol=ids),
    "ExecutionReport": st.builds(
        ExecutionReport,
        exec_id=ids,
        order_id=ids,
        symbol=ids,
        exec_type=st.sampled_from(ExecType),
        last_qty=quantities,
        last_px=st.none() | prices,
        liquidity=st.sampled_from(Liquidity),
        text=st.text(max_size=40),
        ts=times,
    ),
    "ArticlePublished": st.builds(
        ArticlePublished,
        article_id=ids,
        column=ids,
        entitlement=ids,
        title=st.text(max_size=40),
        summary=st.text(max_size=80),
        symbols=st.lists(ids, max_size=3).map(tuple),
        published_at=times,
    ),
    "ClientCreated": st.builds(
        ClientCreated, client_id=ids, username=ids, name=st.text(max_size=40), tier=ids, by_operator=ids, at=times
    ),
    "AccountOpened": st.builds(
        AccountOpened,
        account_id=ids,
        client_id=ids,
        type=st.sampled_from(["CASH", "MARGIN", "FUTURES"]),
        currency=st.just("CNY"),
        opening_deposit=money,
        by_operator=ids,
        at=times,
    ),
}


def test_every_registered_message_type_has_a_round_trip_test() -> None:
    assert set(MESSAGES) <= set(codec.MESSAGE_TYPES)
    core = {"AccountEvent", "SubmitOrder", "CancelOrder", "ExecutionReport"}
    assert core <= set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_round_trips_exactly_over_the_wire_and_through_a_json_column(name: str) -> None:
    @given(MESSAGES[name])
    def check(message: object) -> None:
        assert codec.decode(codec.encode(message)) == message
        assert codec.from_record(codec.to_record(message)) == message
        decoded = codec.decode(codec.encode(message))
        for field in ("price", "notional", "last_px", "opening_deposit"):  # Decimal stays Decimal with its exact digits
            value = getattr(message, field, None)
            if isinstance(value, Decimal):
                assert str(getattr(decoded, field)) == str(value)

    check()


def test_the_envelope_names_the_type_and_its_version() -> None:
    record = codec.to_record(CancelOrder(order_id="ord_1", symbol="600000"))
    assert record == {"type": "CancelOrder", "v": 1, "data": {"order_id": "ord_1", "symbol": "600000"}}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"type":"OrderTeleported","v":1,"data":{}}',  # a type this process does not know
        b'{"type":"CancelOrder","v":99,"data":{"order_id":"o","symbol":"s","new_field":1}}',  # a newer version
        b'{"type":"CancelOrder","v":1,"data":{"order_id":5}}',  # a body that does not fit
        b"not json at all",
        b'{"no":"envelope"}',
    ],
)
def test_what_cannot_be_read_is_parked_with_a_log_line_not_raised(raw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    before = codec.PARKED.count
    with caplog.at_level(logging.WARNING, logger="brokerql.bus.codec"):
        assert codec.decode(raw) is None
    assert codec.PARKED.count == before + 1
    assert raw.decode() in codec.PARKED.recent[-1][1]
    assert any("parked" in r.getMessage() for r in caplog.records)


def test_a_newer_stored_record_is_parked_too() -> None:
    before = codec.PARKED.count
    assert codec.from_record({"type": "AccountEvent", "v": 2, "data": {}}) is None
    assert codec.PARKED.count == before + 1


def test_an_event_stored_before_versioning_is_upcast_from_version_0() -> None:
    legacy = {
        "accountId": "acc_1",
        "seq": 3,
        "kind": "FILL",
        "at": "2026-01-05T02:00:00+00:00",
        "order": {
            "id": "ord_1",
            "accountId": "acc_1",
            "clientOrderId": None,
            "symbol": "600000",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "DAY",
            "price": "13.00",
            "quantity": 200,
            "status": "PARTIALLY_FILLED",
            "cumQty": 100,
            "leavesQty": 100,
            "notional": "1300.00",
            "feesPaid": "5.03",
            "frozenCash": "1305.00",
            "rejectCode": None,
            "rejectReason": None,
            "createdAt": "2026-01-05T01:59:00+00:00",
            "updatedAt": "2026-01-05T02:00:00+00:00",
        },
        "fill": {
            "id": "fil_1",
            "orderId": "ord_1",
            "symbol": "600000",
            "side": "BUY",
            "price": "13.00",
            "quantity": 100,
            "commission": "5.00",
            "stampDuty": "0",
            "transferFee": "0.03",
            "at": "2026-01-05T02:00:00+00:00",
        },
    }
    event = codec.from_record(legacy)
    assert isinstance(event, AccountEvent)
    assert (event.seq, event.kind, event.order.cum_qty, event.order.price) == (3, "FILL", 100, Decimal("13.00"))
    assert event.fill is not None and event.fill.fees.total == Decimal("5.03")
