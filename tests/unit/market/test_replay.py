"""Replaying recorded trades from CSV: parsing, playing at speed into the exchange, re-basing the day."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from brokerql.cli import main
from brokerql.exchange.engine import quote_topic
from brokerql.exchange.replay import SAMPLE_CSV, Replay, ReplayError, play, read_csv
from tests.unit.market.test_exchange_day import MONDAY_10AM, Clock, exchange


def test_the_sample_file_parses_in_order() -> None:
    trades = read_csv(SAMPLE_CSV)
    assert len(trades) >= 50 and {t.symbol for t in trades} == {"600000", "510300"}
    offsets = [t.offset for t in trades]
    assert offsets[0] == 0 and offsets == sorted(offsets)
    assert all(isinstance(t.price, Decimal) and t.quantity > 0 for t in trades)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("time,symbol,price\n", "missing columns"),
        ("time,symbol,price,quantity\n09:30:00,600000,abc,100\n", "line 2"),
        ("time,symbol,price,quantity\n09:30:01,600000,13.5,100\n09:30:00,600000,13.5,100\n", "line 3"),
        ("time,symbol,price,quantity,side\n09:30:00,600000,13.5,100,X\n", "line 2"),
        ("time,symbol,price,quantity\n09:30:00,600000,-1,100\n", "positive"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(body)
    with pytest.raises(ReplayError, match=message):
        read_csv(path)


async def test_replayed_prices_drive_the_quotes_and_the_book_follows() -> None:
    clock = Clock(MONDAY_10AM)
    ex, bus = exchange(clock)
    replay = Replay.from_file(SAMPLE_CSV, speed=1000)
    volume_before = ex.quotes["600000"].volume
    assert await play(ex, replay) == len(replay.trades)
    await ex.publish_quotes()
    recorded = [t for t in replay.trades if t.symbol == "600000"]
    snapshot = await bus.latest(quote_topic("600000"))
    assert Decimal(snapshot["last"]) == recorded[-1].price
    assert snapshot["volume"] == volume_before + sum(t.quantity for t in recorded)
    newest = snapshot["trades"][0]
    assert (Decimal(newest[1]), newest[2], newest[3]) == (recorded[-1].price, recorded[-1].quantity,
                                                          recorded[-1].side.value)  # fmt: skip
    bid, ask = Decimal(snapshot["bid"]), Decimal(snapshot["ask"])
    assert bid <= recorded[-1].price < ask  # the simulated book re-centred on the recording
    ex._simulate_once(clock.now())  # replayed symbols are requoted, not walked or traded by the simulator
    assert ex.quotes["600000"].last == recorded[-1].price


async def test_prev_close_column_rebases_the_day_and_out_of_band_trades_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "real.csv"
    path.write_text(
        "time,symbol,price,quantity,side,prev_close\n"
        "09:30:00,600000,10.05,500,B,10.00\n"
        "09:30:01,600000,12.00,500,B,\n"  # above 10.00 + 10%: refused like the exchange would
        "09:30:02,UNKNOWN,1.00,100,,\n"
        "09:30:03,600000,10.02,300,S,\n"
    )
    clock = Clock(MONDAY_10AM)
    ex, bus = exchange(clock)
    assert await play(ex, Replay.from_file(path, speed=100)) == 2
    await ex.publish_quotes()
    snapshot = await bus.latest(quote_topic("600000"))
    assert (snapshot["prevClose"], snapshot["limitUp"], snapshot["last"]) == ("10.00", "11.00", "10.02")
    assert snapshot["volume"] == 800 and snapshot["high"] == "10.05"


def test_cli_refuses_a_bad_replay_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert main(["exchange", "--replay", str(missing)]) == 2
    assert "cannot replay" in capsys.readouterr().err
    with pytest.raises(ReplayError):
        Replay.from_file(SAMPLE_CSV, speed=0)
