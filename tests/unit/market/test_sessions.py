"""Session schedules, demo mode, trading days and holidays."""

from datetime import UTC, date, datetime, timedelta

import pytest

from brokerql.domain.market.boards import Board
from brokerql.domain.market.sessions import (
    TradingCalendar,
    TradingPhase,
    accepts_orders,
    allows_market_orders,
    phase_at,
    trading_day,
)

P = TradingPhase
MONDAY = date(2026, 5, 11)


def at(hhmm: str, day: date = MONDAY) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute)


@pytest.mark.parametrize(
    ("hhmm", "phase"),
    [
        ("09:14", P.CLOSED),
        ("09:15", P.PRE_OPEN_CALL_AUCTION),
        ("09:27", P.PRE_OPEN_CALL_AUCTION),
        ("09:30", P.CONTINUOUS),
        ("11:29", P.CONTINUOUS),
        ("11:30", P.LUNCH_BREAK),
        ("13:00", P.CONTINUOUS),
        ("14:56", P.CONTINUOUS),
        ("14:57", P.CLOSING_CALL_AUCTION),
        ("15:00", P.CLOSED),
    ],
)
@pytest.mark.parametrize("board", [Board.SSE_MAIN, Board.SZSE_MAIN, Board.CHINEXT, Board.STAR, Board.ETF])
def test_a_share_schedule(board, hhmm, phase):
    assert phase_at(board, at(hhmm)) is phase


@pytest.mark.parametrize(
    ("hhmm", "phase"),
    [
        ("09:00", P.PRE_OPEN_CALL_AUCTION),
        ("09:30", P.CONTINUOUS),
        ("11:45", P.CONTINUOUS),
        ("12:00", P.LUNCH_BREAK),
        ("15:59", P.CONTINUOUS),
        ("16:05", P.CLOSING_CALL_AUCTION),
        ("16:10", P.CLOSED),
    ],
)
def test_hk_schedule(hhmm, phase):
    assert phase_at(Board.HK, at(hhmm)) is phase


@pytest.mark.parametrize(
    ("hhmm", "phase"),
    [("09:20", P.CLOSED), ("09:26", P.PRE_OPEN_CALL_AUCTION), ("14:58", P.CONTINUOUS), ("15:00", P.CLOSED)],
)
def test_cffex_schedule(hhmm, phase):
    assert phase_at(Board.CFFEX_INDEX_FUTURE, at(hhmm)) is phase


def test_aware_moments_are_converted_to_exchange_time():
    utc_morning = datetime(2026, 5, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert phase_at(Board.SSE_MAIN, utc_morning) is P.CONTINUOUS


def test_weekends_holidays_and_demo_mode():
    saturday = MONDAY - timedelta(days=2)
    assert phase_at(Board.SSE_MAIN, at("10:00", saturday)) is P.CLOSED
    holiday = TradingCalendar.of([MONDAY])
    assert phase_at(Board.SSE_MAIN, at("10:00"), calendar=holiday) is P.CLOSED
    assert phase_at(Board.SSE_MAIN, at("03:00", saturday), always_open=True) is P.CONTINUOUS


def test_order_acceptance_by_phase():
    assert [p for p in P if accepts_orders(p)] == [
        P.PRE_OPEN_CALL_AUCTION,
        P.CONTINUOUS,
        P.CLOSING_CALL_AUCTION,
    ]
    assert [p for p in P if allows_market_orders(p)] == [P.CONTINUOUS]


def test_trading_day():
    assert trading_day(at("10:00")) == MONDAY
    assert trading_day(at("08:00")) == MONDAY
    assert trading_day(at("15:30")) == MONDAY + timedelta(days=1)  # after the close: tomorrow's orders
    assert trading_day(at("15:30"), board=Board.HK) == MONDAY
    friday_evening = at("20:00", MONDAY - timedelta(days=3))
    assert trading_day(friday_evening) == MONDAY
    assert trading_day(at("12:00", MONDAY - timedelta(days=1))) == MONDAY  # Sunday
    calendar = TradingCalendar.of([MONDAY])
    assert trading_day(friday_evening, calendar=calendar) == MONDAY + timedelta(days=1)
