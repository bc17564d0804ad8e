"""Parked orders (埋单, C5): an order held by the server until its trigger fires, then placed as any order.

A trigger is a price level the last price crosses (upward: `PRICE_ABOVE`, downward: `PRICE_BELOW`) or
a time (`AT`); every parked order also has a validity end. The rules here are pure: which triggers are
acceptable when parking, what a quote or the clock means for a parked order now (`decide`), the
lifecycle as a literal transition table, and what cancelling answers in each state.

A price trigger is a *crossing*: it may only be parked while the last price is still on the other side
of its level (else TRIGGER_ALREADY_MET), so "crossed" is simply "the last price is at or beyond the
level" on any later quote - a rule that needs no memory of the previous quote and so survives restarts
and holds in every process alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import OrderType, Rejection
from brokerql.domain.trading.commands import PlaceOrder

DEFAULT_VALIDITY = timedelta(days=1)  # validUntil when the client gives none
MAX_VALIDITY = timedelta(days=30)  # a parked order may wait at most this long
# A claim older than this is taken to belong to a process that died mid-fire; another may take it over.
# Placing one order takes milliseconds, so a live claimant is never this slow.
CLAIM_TIMEOUT = timedelta(seconds=30)


class ParkedStatus(StrEnum):
    """Where a parked order is in its life. FIRING is the durable claim of the one process placing it."""

    PARKED = "PARKED"
    FIRING = "FIRING"
    TRIGGERED = "TRIGGERED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"

    @property
    def public(self) -> ParkedStatus:
        """What clients see: a claimed order has not been placed yet, so it still reads PARKED."""
        return ParkedStatus.PARKED if self is ParkedStatus.FIRING else self

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({ParkedStatus.TRIGGERED, ParkedStatus.CANCELED, ParkedStatus.EXPIRED, ParkedStatus.FAILED})

P = ParkedStatus
# Every legal move. FIRING -> FIRING is a takeover of a stale claim (its holder died mid-fire).
TRANSITIONS: frozenset[tuple[ParkedStatus, ParkedStatus]] = frozenset(
    {
        (P.PARKED, P.FIRING),
        (P.PARKED, P.CANCELED),
        (P.PARKED, P.EXPIRED),
        (P.FIRING, P.FIRING),
        (P.FIRING, P.TRIGGERED),
        (P.FIRING, P.FAILED),
    }
)
del P


def can_move(current: ParkedStatus, target: ParkedStatus) -> bool:
    return (current, target) in TRANSITIONS


class TriggerKind(StrEnum):
    PRICE_ABOVE = "PRICE_ABOVE"  # fires when the last price rises to the level or above
    PRICE_BELOW = "PRICE_BELOW"  # fires when the last price falls to the level or below
    AT = "AT"  # fires at a set time


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    kind: TriggerKind
    level: Decimal | None = None  # price triggers
    at: datetime | None = None  # time triggers

    @property
    def is_price(self) -> bool:
        return self.kind is not TriggerKind.AT


def trigger_of(price_above: Decimal | None, price_below: Decimal | None, at: datetime | None) -> Trigger | Rejection:
    """Exactly one of the three trigger fields, as a Trigger."""
    given = [(k, v) for k, v in ((TriggerKind.PRICE_ABOVE, price_above), (TriggerKind.PRICE_BELOW, price_below),
                                 (TriggerKind.AT, at)) if v is not None]  # fmt: skip
    if len(given) != 1:
        return Rejection("BAD_TRIGGER", "Give exactly one of priceAbove, priceBelow or at.", "trigger")
    kind, value = given[0]
    if kind is TriggerKind.AT:
        assert isinstance(value, datetime)
        return Trigger(kind=kind, at=value)
    assert isinstance(value, Decimal)
    return Trigger(kind=kind, level=value)


def price_met(trigger: Trigger, last: Decimal) -> bool:
    """Is the last price at or beyond a price trigger's level (on the side it waits for)?"""
    if trigger.kind is TriggerKind.PRICE_ABOVE:
        return trigger.level is not None and last >= trigger.level
    if trigger.kind is TriggerKind.PRICE_BELOW:
        return trigger.level is not None and last <= trigger.level
    return False


def order_refusal(order: PlaceOrder) -> Rejection | None:
    """What is wrong with the order whatever the market does by the time it fires. Everything that
    depends on that moment (funds, lots against holdings, price limits, halts) is checked when it fires."""
    if order.quantity <= 0:
        return Rejection("BAD_QUANTITY", "quantity must be a positive whole number.", "quantity")
    if order.price is not None and order.price <= 0:
        return Rejection("BAD_PRICE", "A limit price must be positive.", "price")
    if order.type is OrderType.LIMIT and order.price is None and order.price_level is None:
        return Rejection("BAD_PRICE", "A limit order needs a price (or a priceLevel).", "price")
    return None


def park_refusal(trigger: Trigger, valid_until: datetime, now: datetime, last: Decimal | None) -> Rejection | None:
    """Why this trigger and validity cannot be parked now, if they cannot."""
    if valid_until <= now:
        return Rejection("BAD_VALID_UNTIL", "validUntil must be in the future.", "validUntil")
    if valid_until > now + MAX_VALIDITY:
        return Rejection("BAD_VALID_UNTIL", f"A parked order may wait {MAX_VALIDITY.days} days at most.", "validUntil")
    if trigger.kind is TriggerKind.AT:
        assert trigger.at is not None
        if trigger.at.tzinfo is None:
            return Rejection("BAD_TRIGGER", "at needs a time zone (e.g. 2026-12-01T01:30:00Z).", "trigger.at")
        if trigger.at <= now:
            return Rejection("BAD_TRIGGER", "at must be in the future.", "trigger.at")
        if trigger.at >= valid_until:
            return Rejection("BAD_TRIGGER", "at must come before validUntil.", "trigger.at")
        return None
    assert trigger.level is not None
    if trigger.level <= 0:
        return Rejection("BAD_TRIGGER", "A trigger price must be positive.", "trigger")
    if last is not None and price_met(trigger, last):
        side = "below" if trigger.kind is TriggerKind.PRICE_ABOVE else "above"
        return Rejection(
            "TRIGGER_ALREADY_MET",
            f"The last price {last} is already past {trigger.level}; a crossing needs it {side} the level now.",
            "trigger",
        )
    return None


class Decision(StrEnum):
    WAIT = "WAIT"
    FIRE = "FIRE"
    EXPIRE = "EXPIRE"


def decide(trigger: Trigger, valid_until: datetime, now: datetime, last: Decimal | None = None) -> Decision:
    """What a parked order should do now, given the time and (for a quote) the last price.

    Validity wins: an order whose validity ended never fires, even on a crossing quote."""
    if now >= valid_until:
        return Decision.EXPIRE
    if trigger.kind is TriggerKind.AT:
        assert trigger.at is not None
        return Decision.FIRE if now >= trigger.at else Decision.WAIT
    return Decision.FIRE if last is not None and price_met(trigger, last) else Decision.WAIT


def claim_stale(claimed_at: datetime | None, now: datetime) -> bool:
    """May another process take over a FIRING claim made at `claimed_at`?"""
    return claimed_at is None or now - claimed_at >= CLAIM_TIMEOUT


def cancel_refusal(status: ParkedStatus) -> Rejection | None:
    """Why a parked order in `status` cannot be cancelled, if it cannot."""
    if status in (ParkedStatus.FIRING, ParkedStatus.TRIGGERED):
        return Rejection(
            "PARKED_ORDER_ALREADY_TRIGGERED",
            "The parked order has already fired; cancel the order it placed instead (cancelOrders).",
            "id",
        )
    if status.is_final:
        return Rejection("PARKED_ORDER_CLOSED", f"The parked order is already {status.value}.", "id")
    return None


def placed_client_order_id(parked_id: str, client_order_id: str | None) -> str:
    """The clientOrderId the fired order carries: the client's own, or one derived from the parked order.

    Placing is idempotent on it, so a process that takes over a dead one's claim finds the order that
    one may already have placed instead of placing a second."""
    return client_order_id or f"parked:{parked_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkOrder:
    """Park `order` until `trigger` fires, at the latest until `valid_until`."""

    order: PlaceOrder
    trigger: Trigger
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkedOrderView:
    """A parked order as it stands after a change: in account events, on the parked-orders topic, and
    on the read side."""

    id: str
    account_id: str
    status: ParkedStatus
    trigger: Trigger
    valid_until: datetime
    order: PlaceOrder
    placed_order_id: str | None = None
    failure_code: str | None = None
    failure_reason: str | None = None
    created_at: datetime
    updated_at: datetime
