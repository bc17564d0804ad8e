"""Trade tape, daily bars, bar windows of a (delayed) view, depth level choices, the day roll of an instrument."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

from brokerql.domain.common import Side
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS, roll_day
from brokerql.domain.market.quotes import Bar, Level1
from brokerql.domain.market.tape import (
    BarInterval,
    DailyBars,
    TradeTape,
    check_depth_levels,
    day_start,
    visible_bars,
)

T0 = datetime(2026, 5, 11, 1, 30, tzinfo=UTC)


def bar(minute: int, close: str = "13.50") -> Bar:
    return Bar(T0 + timedelta(minutes=minute), D(close), D(close), D(close), D(close), 100, D(close) * 100)


def test_tape_numbers_trades_and_keeps_only_the_newest() -> None:
    tape = TradeTape(maxlen=3)
    for n in range(5):
        tape.add(D("13.50") + n, 100 * (n + 1), Side.BUY if n % 2 else None, T0)
    recent = tape.recent()
    assert [t.seq for t in recent] == [5, 4, 3] and len(tape) == 3 and tape.last_seq == 5
    assert recent[0].quantity == 500 and recent[0].side is None and recent[1].side is Side.BUY
    assert [t.seq for t in tape.recent(2)] == [5, 4]


def test_depth_levels_are_five_or_ten() -> None:
    assert check_depth_levels(5) is None and check_depth_levels(10) is None
    assert check_depth_levels(7).code == "BAD_DEPTH_LEVELS"


def test_a_delayed_view_sees_no_bar_that_finished_after_it() -> None:
    closed = [bar(m) for m in range(30)]  # minutes 0..29 finished
    now_view = visible_bars(closed, bar(30), T0 + timedelta(minutes=30, seconds=5), BarInterval.MINUTE, 600)
    assert [b.start for b in now_view] == [bar(m).start for m in range(31)]
    as_of = T0 + timedelta(minutes=15, seconds=20)  # 15 minutes behind
    delayed = visible_bars(closed, bar(15, "13.40"), as_of, BarInterval.MINUTE, 600)
    assert [b.start for b in delayed] == [bar(m).start for m in range(16)] and delayed[-1].close == D("13.40")
    assert len(visible_bars(closed, None, as_of, BarInterval.MINUTE, 5)) == 5
    assert visible_bars(closed, None, as_of, BarInterval.MINUTE, 0) == []


def level1(open_: str | None, last: str | None) -> Level1:
    p = None if open_ is None else D(open_)
    return Level1("600000", None if last is None else D(last), p, p, p, D("13.52"), None, None, None, None, 0, 0,
                  500 if p else 0, D(0), T0)  # fmt: skip


def test_daily_bars_record_days_that_traded() -> None:
    days = DailyBars()
    assert days.close_day(date(2026, 5, 8), level1(None, None)) is None
    bar_ = days.close_day(date(2026, 5, 11), level1("13.50", "13.60"))
    assert bar_ is not None and bar_.start == day_start(date(2026, 5, 11)) and bar_.close == D("13.60")
    assert days.bars() == [bar_]
    view = visible_bars(days.bars(), None, T0 + timedelta(days=1), BarInterval.DAY, 10)
    assert view == [bar_]


def test_a_new_day_moves_prev_close_and_the_limits() -> None:
    stock = DEMO_INSTRUMENTS["600000"]
    rolled = roll_day(stock, D("14.00"))
    assert (rolled.prev_close, rolled.limit_up, rolled.limit_down) == (D("14.00"), D("15.40"), D("12.60"))
    assert roll_day(stock, None) is stock
    hk = roll_day(DEMO_INSTRUMENTS["00700"], D("480.0"))
    assert hk.tick_size == D("0.2") and hk.limit_up is None
