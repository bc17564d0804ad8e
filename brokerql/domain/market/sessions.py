"""Trading sessions: which phase a board is in at a given moment, and which trading day it belongs to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from brokerql.domain.market.boards import Board

EXCHANGE_TZ = ZoneInfo("Asia/Shanghai")


class TradingPhase(StrEnum):
    """Phase of the trading day as the exchange sees it."""

    CLOSED = "CLOSED"
    PRE_OPEN_CALL_AUCTION = "PRE_OPEN_CALL_AUCTION"
    CONTINUOUS = "CONTINUOUS"
    LUNCH_BREAK = "LUNCH_BREAK"
    CLOSING_CALL_AUCTION = "CLOSING_CALL_AUCTION"


@dataclass(frozen=True, slots=True)
class TradingCalendar:
    """Weekends plus a pluggable set of exchange holidays (no built-in holiday list on purpose)."""

    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, holidays: Iterable[date]) -> TradingCalendar:
        """Calendar closed on the given dates as well as on weekends."""
        return cls(frozenset(holidays))

    def is_trading_day(self, day: date) -> bool:
        """True on weekdays that are not holidays."""
        return day.weekday() < 5 and day not in self.holidays

    def next_trading_day(self, day: date) -> date:
        """First trading day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day


WEEKENDS_ONLY = TradingCalendar()

_Schedule = tuple[tuple[time, time, TradingPhase], ...]


def _t(text: str) -> time:
    return time.fromisoformat(text)


# Half-open [start, end) windows. 09:25-09:30 on SSE/SZSE accepts orders that wait for the open, so it
# is reported as part of the pre-open auction phase rather than as a closed market.
_A_SHARE: _Schedule = (
    (_t("09:15"), _t("09:30"), TradingPhase.PRE_OPEN_CALL_AUCTION),
    (_t("09:30"), _t("11:30"), TradingPhase.CONTINUOUS),
    (_t("11:30"), _t("13:00"), TradingPhase.LUNCH_BREAK),
    (_t("13:00"), _t("14:57"), TradingPhase.CONTINUOUS),
    (_t("14:57"), _t("15:00"), TradingPhase.CLOSING_CALL_AUCTION),
)
# SEHK: pre-opening session 09:00-09:30 and closing auction session 16:00-16:10 around continuous trading.
_HK: _Schedule = (
    (_t("09:00"), _t("09:30"), TradingPhase.PRE_OPEN_CALL_AUCTION),
    (_t("09:30"), _t("12:00"), TradingPhase.CONTINUOUS),
    (_t("12:00"), _t("13:00"), TradingPhase.LUNCH_BREAK),
    (_t("13:00"), _t("16:00"), TradingPhase.CONTINUOUS),
    (_t("16:00"), _t("16:10"), TradingPhase.CLOSING_CALL_AUCTION),
)
# CFFEX stock index futures: opening auction 09:25-09:30, no closing auction.
_CFFEX: _Schedule = (
    (_t("09:25"), _t("09:30"), TradingPhase.PRE_OPEN_CALL_AUCTION),
    (_t("09:30"), _t("11:30"), TradingPhase.CONTINUOUS),
    (_t("11:30"), _t("13:00"), TradingPhase.LUNCH_BREAK),
    (_t("13:00"), _t("15:00"), TradingPhase.CONTINUOUS),
)

SCHEDULES: dict[Board, _Schedule] = {
    Board.SSE_MAIN: _A_SHARE,
    Board.SZSE_MAIN: _A_SHARE,
    Board.CHINEXT: _A_SHARE,
    Board.STAR: _A_SHARE,
    Board.ETF: _A_SHARE,
    Board.HK: _HK,
    Board.CFFEX_INDEX_FUTURE: _CFFEX,
}


def local_time(moment: datetime) -> datetime:
    """`moment` on the exchange clock; naive datetimes are taken as already local (Asia/Shanghai)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=EXCHANGE_TZ)
    return moment.astimezone(EXCHANGE_TZ)


def phase_at(
    board: Board, moment: datetime, *, always_open: bool = False, calendar: TradingCalendar = WEEKENDS_ONLY
) -> TradingPhase:
    """Phase of `board` at `moment`; `always_open` (demo mode) pretends it is always continuous trading."""
    if always_open:
        return TradingPhase.CONTINUOUS
    local = local_time(moment)
    if not calendar.is_trading_day(local.date()):
        return TradingPhase.CLOSED
    clock = local.time().replace(tzinfo=None)
    for start, end, phase in SCHEDULES[board]:
        if start <= clock < end:
            return phase
    return TradingPhase.CLOSED


def session_close(board: Board) -> time:
    """End of the board's last session of the day."""
    return SCHEDULES[board][-1][1]


def accepts_orders(phase: TradingPhase) -> bool:
    """Exchanges take new orders during the auctions and continuous trading, not at lunch or closed."""
    return phase in (
        TradingPhase.PRE_OPEN_CALL_AUCTION,
        TradingPhase.CONTINUOUS,
        TradingPhase.CLOSING_CALL_AUCTION,
    )


def allows_market_orders(phase: TradingPhase) -> bool:
    """Market orders need a live book to price against, so only continuous trading takes them."""
    return phase is TradingPhase.CONTINUOUS


def trading_day(moment: datetime, *, board: Board = Board.SSE_MAIN, calendar: TradingCalendar = WEEKENDS_ONLY) -> date:
    """Trading day whose settlement `moment` belongs to.

    During or before the day's sessions that is today; after the board's close, on a weekend or a
    holiday it is the next trading day (orders entered overnight are queued for it).
    """
    local = local_time(moment)
    day = local.date()
    if calendar.is_trading_day(day) and local.time().replace(tzinfo=None) < session_close(board):
        return day
    return calendar.next_trading_day(day)
