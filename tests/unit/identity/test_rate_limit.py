"""A4 limits, the pure part: fixed windows, decisions with retry-after, concurrent slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brokerql.domain.identity.rate_limit import SlotCounts, WindowCounts, decide, scaled, window_of

T0 = datetime(2026, 3, 2, 9, 30, 0, tzinfo=UTC)


def test_window_number_and_remaining_seconds() -> None:
    start = window_of(T0)
    later = window_of(T0 + timedelta(seconds=59.5))
    assert later.number == start.number and start.remaining_seconds == 60
    assert later.remaining_seconds == pytest.approx(0.5)
    assert window_of(T0 + timedelta(seconds=60)).number == start.number + 1


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        window_of(datetime(2026, 3, 2, 9, 30))


def test_budget_per_window_then_retry_after_the_window() -> None:
    counts = WindowCounts()
    at = T0 + timedelta(seconds=20)
    window = window_of(at)
    decisions = [decide(counts.hit("client:c1", window), 3, window) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 40 and decisions[-1].limit == 3
    assert decide(counts.hit("client:c2", window), 3, window).allowed  # per client
    fresh = window_of(at + timedelta(seconds=40))
    assert decide(counts.hit("client:c1", fresh), 3, fresh).allowed  # a new window, a new budget


def test_retry_after_is_at_least_one_second() -> None:
    window = window_of(T0 + timedelta(seconds=59.9))
    assert decide(2, 1, window).retry_after == 1


def test_scale_keeps_at_least_one() -> None:
    assert scaled(60, 1000) == 60000 and scaled(3, 0.01) == 1


def test_slots_are_bounded_and_released() -> None:
    slots = SlotCounts()
    assert slots.acquire("client:c1", 2) and slots.acquire("client:c1", 2)
    assert not slots.acquire("client:c1", 2)
    slots.release("client:c1")
    assert slots.held("client:c1") == 1 and slots.acquire("client:c1", 2)
    slots.release("client:c1")
    slots.release("client:c1")
    assert slots.held("client:c1") == 0
