"""The rules the read side shares with the domain: the rounding policy, the daily settlement as of a
day, and applying a partial preferences change."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerql.domain import rounding
from brokerql.domain.market.boards import Board
from brokerql.domain.trading.account import Account, as_of_day, settlement_due
from brokerql.domain.trading.commands import UpdatePreferences
from brokerql.domain.trading.ledger import Funds, Position
from brokerql.domain.trading.orders import average_price
from brokerql.domain.trading.preferences import FixedQuantity, PositionRatio, TradingPreferences, updated
from brokerql.domain.trading.price_levels import PriceLevel


@pytest.mark.parametrize(
    ("value", "board", "shown"),
    [
        ("13", Board.SSE_MAIN, "13.00"),
        ("13.5", Board.STAR, "13.50"),
        ("3.9", Board.ETF, "3.900"),
        ("4012.2", Board.CFFEX_INDEX_FUTURE, "4012.2"),
        ("320.4", Board.HK, "320.4"),
        ("0.255", Board.HK, "0.255"),
    ],
)
def test_prices_read_at_their_tick_decimals(value: str, board: Board, shown: str) -> None:
    assert str(rounding.price(D(value), board)) == shown


def test_money_at_two_decimals_and_averages_at_four_half_up() -> None:
    assert str(rounding.money(D("1000000"))) == "1000000.00"
    assert str(rounding.money(D("0.125"))) == "0.13"
    assert str(rounding.average(D("13.12345"))) == "13.1235"  # half up, as the domain always did
    assert average_price(D("131.2345"), 10) == D("13.1235")
    assert Position("600000", 3, 3, 0, D("40.00")).avg_cost == D("13.3333")


@given(st.decimals(min_value=0, max_value=10**9, places=8, allow_nan=False, allow_infinity=False))
def test_a_price_on_its_tick_keeps_its_value(cents: D) -> None:
    on_tick = cents.quantize(D("0.01"))
    assert rounding.price(on_tick, Board.SSE_MAIN) == on_tick


def test_settlement_is_due_once_a_new_day_began_but_not_for_a_new_account() -> None:
    assert settlement_due("2026-11-27", "2026-11-30")
    assert not settlement_due("2026-11-30", "2026-11-30")
    assert not settlement_due("", "2026-11-30") and not settlement_due(None, "2026-11-30")


def test_as_of_day_settles_in_memory_and_leaves_the_stored_account_alone() -> None:
    funds = Funds(D("1000"), D("1000"), D("0"), D("300"))
    bought = Position("600000", 200, 0, 0, D("2600"), bought_today=200)
    flat = Position("000001", 0, 0, 0, D("0"))
    stored = Account("acc", funds=funds, positions={"600000": bought, "000001": flat}, realised_pnl=D("12.5"))
    today = as_of_day(stored, "2026-11-27", "2026-11-30")
    assert today.funds.withdrawable == D("1000") and stored.funds.withdrawable == D("700")
    assert today.positions == {"600000": bought.roll_day()} and today.realised_pnl == D("12.5")
    assert stored.positions["600000"] is bought
    assert as_of_day(stored, "2026-11-30", "2026-11-30") is stored


def test_a_partial_change_applies_over_the_current_preferences() -> None:
    current = TradingPreferences()
    change = UpdatePreferences(default_price_level=PriceLevel.ASK1, default_quantity_ratio=D("0.5"))
    assert updated(current, change) == TradingPreferences(
        default_price_level=PriceLevel.ASK1, default_quantity=PositionRatio(D("0.5"))
    )
    fixed = updated(current, UpdatePreferences(default_price=D("13.5"), default_quantity_shares=300))
    assert isinstance(fixed, TradingPreferences) and fixed.default_quantity == FixedQuantity(300)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (UpdatePreferences(default_price=D("13.5"), default_price_level=PriceLevel.BID1), "INVALID_ARGUMENT"),
        (UpdatePreferences(default_quantity_ratio=D("0.5"), default_quantity_shares=100), "INVALID_ARGUMENT"),
        (UpdatePreferences(hotkeys=(("F2", "BUY"), ("F2", "SELL"))), "DUPLICATE_HOTKEY"),
        (UpdatePreferences(hotkeys=(("ctrl+b", "BUY"), ("Control+B", "SELL"))), "DUPLICATE_HOTKEY"),
        (UpdatePreferences(default_quantity_ratio=D("1.5")), "INVALID_QUANTITY"),
    ],
)
def test_an_invalid_change_is_refused_as_a_whole(change: UpdatePreferences, code: str) -> None:
    refused = updated(TradingPreferences(), change)
    assert isinstance(refused, list) and code in [r.code for r in refused]
