"""The running exchange's market data: trading sessions, the day roll, the tape and published bars.

The exchange runs with an in-process bus and a settable clock; no client orders are involved.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from brokerql.bus.memory import MemoryBus
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.market.sessions import EXCHANGE_TZ
from brokerql.exchange.engine import REFERENCE_TOPIC, Exchange, bars_topic, quote_topic
from tests.fakes import FakeClock

MONDAY_10AM = datetime(2026, 5, 11, 10, 0, tzinfo=EXCHANGE_TZ)


class Clock(FakeClock):
    pass


def exchange(clock: Clock, *, always_open: bool = True) -> tuple[Exchange, MemoryBus]:
    bus = MemoryBus()
    return Exchange(DEMO_INSTRUMENTS, bus, seed=7, tick_seconds=1, warmup_steps=30,
                    always_open=always_open, clock=clock), bus  # fmt: skip


def trade_for(ex: Exchange, clock: Clock, minutes: int) -> None:
    for _ in range(minutes * 6):
        clock.current += timedelta(seconds=10)
        ex._simulate_once(clock.current)


async def test_at_a_new_trading_day_yesterdays_last_becomes_prev_close() -> None:
    clock = Clock(MONDAY_10AM)
    ex, bus = exchange(clock)
    ex._warm_up()
    trade_for(ex, clock, 10)
    await ex.publish_quotes()
    monday = await bus.latest(quote_topic("600000"))
    assert monday["tradingDay"] == "2026-05-11" and monday["prevClose"] == "13.52" and monday["volume"] > 0
    assert len((await bus.latest(bars_topic("600000", "MINUTE")))["bars"]) >= 10
    close = ex.quotes["600000"].last

    clock.current = MONDAY_10AM + timedelta(days=1)
    trade_for(ex, clock, 1)
    await ex.publish_quotes()
    tuesday = await bus.latest(quote_topic("600000"))
    assert (tuesday["tradingDay"], Decimal(tuesday["prevClose"])) == ("2026-05-12", close)
    assert ex.instruments["600000"].prev_close == close and DEMO_INSTRUMENTS["600000"].prev_close == Decimal("13.52")
    assert tuesday["volume"] < monday["volume"] or tuesday["open"] != monday["open"]
    assert Decimal(tuesday["limitUp"]) == ex.instruments["600000"].limit_up
    (monday_bar,) = (await bus.latest(bars_topic("600000", "DAY")))["bars"]
    assert monday_bar[0].startswith("2026-05-11") and Decimal(monday_bar[4]) == close
    reference = (await bus.latest(REFERENCE_TOPIC))["instruments"]["600000"]
    assert reference == {"prevClose": str(close), "tradingDay": "2026-05-12"}
    minute_bars = (await bus.latest(bars_topic("600000", "MINUTE")))["bars"]
    assert all(row[0] >= "2026-05-12" for row in minute_bars)  # Tuesday's chart starts afresh


async def test_outside_the_sessions_nothing_trades_unless_demo_mode() -> None:
    saturday = Clock(datetime(2026, 5, 16, 10, 0, tzinfo=EXCHANGE_TZ))
    ex, bus = exchange(saturday, always_open=False)
    before = ex.quotes["600000"].volume
    trade_for(ex, saturday, 5)
    await ex.publish_quotes()
    snapshot = await bus.latest(quote_topic("600000"))
    assert ex.quotes["600000"].volume == before and snapshot["phase"] == "CLOSED"
    lunch = Clock(MONDAY_10AM.replace(hour=12))
    ex, bus = exchange(lunch, always_open=False)
    await ex.publish_quotes()
    assert (await bus.latest(quote_topic("600000")))["phase"] == "LUNCH_BREAK"
    demo = Clock(saturday.current)
    ex, bus = exchange(demo)
    trade_for(ex, demo, 5)
    await ex.publish_quotes()
    assert ex.quotes["600000"].volume > 0 and (await bus.latest(quote_topic("600000")))["phase"] == "CONTINUOUS"


async def test_snapshots_carry_the_tape_and_etf_premium() -> None:
    clock = Clock(MONDAY_10AM)
    ex, bus = exchange(clock)
    trade_for(ex, clock, 10)
    await ex.publish_quotes()
    snapshot = await bus.latest(quote_topic("510300"))
    seqs = [row[0] for row in snapshot["trades"]]
    assert seqs and seqs == sorted(seqs, reverse=True) and len(seqs) <= 20
    assert all(row[3] in ("BUY", "SELL") for row in snapshot["trades"])
    iopv, last = Decimal(snapshot["iopv"]), Decimal(snapshot["last"])
    assert Decimal(snapshot["premiumDiscount"]) == ((last - iopv) / iopv).quantize(Decimal("0.000001"))
    assert len(snapshot["bids"]) == 10 and snapshot["minuteBar"] is not None


async def test_a_market_started_just_after_the_close_warms_up_into_the_next_day() -> None:
    # The warm-up trades "in the past": 16 minutes before 15:05 straddles the close, and must not settle
    # a day nobody traded (a new prev_close, and a DAY_SETTLED for every account, on each start).
    clock = Clock(MONDAY_10AM.replace(hour=15, minute=5))
    ex, bus = exchange(clock)
    ex._warm_up()
    await ex.publish_quotes()
    quote = await bus.latest(quote_topic("600000"))
    assert (quote["tradingDay"], quote["prevClose"]) == ("2026-05-12", "13.52")
    assert ex.instruments["600000"].prev_close == Decimal("13.52")


class TickingClock(Clock):
    """Moves a millisecond each time it is read: the loop runs between the instruments of a publish."""

    def now(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current


async def test_each_snapshot_is_stamped_when_it_is_built_not_at_the_start_of_the_publish() -> None:
    clock = TickingClock(MONDAY_10AM)
    ex, bus = exchange(clock)
    ex._warm_up()
    ex.desk.mark_all_dirty()
    start = clock.now()
    await ex.publish_quotes()
    stamps = [datetime.fromisoformat((await bus.latest(quote_topic(s)))["asOf"]) for s in sorted(DEMO_INSTRUMENTS)]
    assert all(stamp > start for stamp in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # built one after the other
