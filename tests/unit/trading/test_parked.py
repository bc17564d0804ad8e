"""The parked-order rules without I/O: trigger crossing, validity, the lifecycle table, cancel answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from brokerql.bus import codec
from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.messages import AccountEvent, AccountEventKind
from brokerql.domain.trading.parked import (
    CLAIM_TIMEOUT,
    Decision,
    ParkedOrderView,
    ParkedStatus,
    Trigger,
    TriggerKind,
    can_move,
    cancel_refusal,
    claim_stale,
    decide,
    order_refusal,
    park_refusal,
    placed_client_order_id,
    price_met,
    trigger_of,
)
from brokerql.domain.trading.price_levels import PriceLevel

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
ABOVE = Trigger(kind=TriggerKind.PRICE_ABOVE, level=Decimal("10.50"))
BELOW = Trigger(kind=TriggerKind.PRICE_BELOW, level=Decimal("10.00"))


def test_exactly_one_trigger_field() -> None:
    assert trigger_of(Decimal("1"), None, None) == Trigger(kind=TriggerKind.PRICE_ABOVE, level=Decimal("1"))
    assert trigger_of(None, None, LATER) == Trigger(kind=TriggerKind.AT, at=LATER)
    for fields in [(None, None, None), (Decimal("1"), Decimal("2"), None), (Decimal("1"), None, LATER)]:
        refused = trigger_of(*fields)
        assert isinstance(refused, Rejection) and refused.code == "BAD_TRIGGER"


@pytest.mark.parametrize(
    ("trigger", "last", "met"),
    [
        (ABOVE, Decimal("10.49"), False),
        (ABOVE, Decimal("10.50"), True),  # touching the level is crossing it
        (ABOVE, Decimal("11"), True),
        (BELOW, Decimal("10.01"), False),
        (BELOW, Decimal("10.00"), True),
        (BELOW, Decimal("9"), True),
    ],
)
def test_price_crossing(trigger: Trigger, last: Decimal, met: bool) -> None:
    assert price_met(trigger, last) is met


def test_a_crossing_needs_the_price_on_the_other_side_when_parked() -> None:
    assert park_refusal(ABOVE, LATER, NOW, Decimal("10.40")) is None
    assert park_refusal(ABOVE, LATER, NOW, Decimal("10.50")).code == "TRIGGER_ALREADY_MET"  # type: ignore[union-attr]
    assert park_refusal(BELOW, LATER, NOW, Decimal("9.99")).code == "TRIGGER_ALREADY_MET"  # type: ignore[union-attr]
    assert park_refusal(BELOW, LATER, NOW, None) is None  # no quote yet: the first one decides


def test_validity_and_time_triggers() -> None:
    assert park_refusal(ABOVE, NOW, NOW, None).code == "BAD_VALID_UNTIL"  # type: ignore[union-attr]
    assert park_refusal(ABOVE, NOW + timedelta(days=31), NOW, None).code == "BAD_VALID_UNTIL"  # type: ignore[union-attr]
    at = Trigger(kind=TriggerKind.AT, at=NOW + timedelta(minutes=5))
    assert park_refusal(at, LATER, NOW, None) is None
    assert park_refusal(Trigger(kind=TriggerKind.AT, at=NOW), LATER, NOW, None).code == "BAD_TRIGGER"  # type: ignore[union-attr]
    assert park_refusal(at, at.at, NOW, None).code == "BAD_TRIGGER"  # type: ignore[arg-type, union-attr]
    naive = Trigger(kind=TriggerKind.AT, at=datetime(2026, 12, 1, 9, 30))
    assert park_refusal(naive, LATER, NOW, None).code == "BAD_TRIGGER"  # type: ignore[union-attr]
    assert park_refusal(Trigger(kind=TriggerKind.PRICE_ABOVE, level=Decimal(0)), LATER, NOW, None) is not None


def test_decide_validity_wins_over_a_crossing() -> None:
    assert decide(ABOVE, LATER, NOW, Decimal("10.49")) is Decision.WAIT
    assert decide(ABOVE, LATER, NOW, Decimal("10.60")) is Decision.FIRE
    assert decide(ABOVE, LATER, LATER, Decimal("10.60")) is Decision.EXPIRE
    assert decide(ABOVE, LATER, NOW, None) is Decision.WAIT
    at = Trigger(kind=TriggerKind.AT, at=NOW + timedelta(minutes=5))
    assert decide(at, LATER, NOW) is Decision.WAIT
    assert decide(at, LATER, NOW + timedelta(minutes=5)) is Decision.FIRE
    assert decide(at, LATER, LATER) is Decision.EXPIRE


def test_lifecycle_table() -> None:
    s = ParkedStatus
    assert can_move(s.PARKED, s.FIRING) and can_move(s.FIRING, s.TRIGGERED) and can_move(s.FIRING, s.FAILED)
    assert can_move(s.PARKED, s.CANCELED) and can_move(s.PARKED, s.EXPIRED)
    assert can_move(s.FIRING, s.FIRING)  # a takeover of a dead claim
    for final in (s.TRIGGERED, s.CANCELED, s.EXPIRED, s.FAILED):
        assert final.is_final and not any(can_move(final, t) for t in s)
    assert not can_move(s.FIRING, s.CANCELED)  # once claimed, it fires or fails
    assert s.FIRING.public is s.PARKED and s.TRIGGERED.public is s.TRIGGERED


def test_cancel_answers() -> None:
    assert cancel_refusal(ParkedStatus.PARKED) is None
    assert cancel_refusal(ParkedStatus.TRIGGERED).code == "PARKED_ORDER_ALREADY_TRIGGERED"  # type: ignore[union-attr]
    assert cancel_refusal(ParkedStatus.FIRING).code == "PARKED_ORDER_ALREADY_TRIGGERED"  # type: ignore[union-attr]
    for status in (ParkedStatus.CANCELED, ParkedStatus.EXPIRED, ParkedStatus.FAILED):
        assert cancel_refusal(status).code == "PARKED_ORDER_CLOSED"  # type: ignore[union-attr]


def test_claims_go_stale_after_the_timeout() -> None:
    assert not claim_stale(NOW, NOW + CLAIM_TIMEOUT - timedelta(seconds=1))
    assert claim_stale(NOW, NOW + CLAIM_TIMEOUT)
    assert placed_client_order_id("pko_1", None) == "parked:pko_1"
    assert placed_client_order_id("pko_1", "mine") == "mine"


def test_parked_events_round_trip_through_the_codec() -> None:
    order = PlaceOrder(account_id="acc", symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=100,
                       price=Decimal("10.51"))  # fmt: skip
    parked = ParkedOrderView(id="pko_1", account_id="acc", status=ParkedStatus.FAILED, trigger=ABOVE,
                             valid_until=LATER, order=order, failure_code="INSUFFICIENT_FUNDS",
                             created_at=NOW, updated_at=NOW)  # fmt: skip
    event = AccountEvent(account_id="acc", seq=7, kind=AccountEventKind.PARKED_FAILED, at=NOW, parked=parked,
                         code="INSUFFICIENT_FUNDS")  # fmt: skip
    assert codec.decode(codec.encode(event)) == event
    assert codec.from_record(codec.to_record(event)) == event
    assert codec.decode(codec.encode(parked)) == parked


def test_order_shape_is_checked_when_parking() -> None:
    order = PlaceOrder(account_id="acc", symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=100,
                       price=Decimal("10.51"))  # fmt: skip
    assert order_refusal(order) is None
    assert order_refusal(replace(order, quantity=0)).code == "BAD_QUANTITY"  # type: ignore[union-attr]
    assert order_refusal(replace(order, price=None)).code == "BAD_PRICE"  # type: ignore[union-attr]
    assert order_refusal(replace(order, price=None, price_level=PriceLevel.ASK1)) is None
    assert order_refusal(replace(order, type=OrderType.MARKET, price=None)) is None
