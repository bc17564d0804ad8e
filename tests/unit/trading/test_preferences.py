"""D2 preferences: validation, hotkey chords, and the default quantity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokerql.domain.common import Side
from brokerql.domain.trading import (
    FixedQuantity,
    HotkeyAction,
    PositionRatio,
    PriceLevel,
    TradingPreferences,
    estimate_buy_freeze,
    normalize_chord,
    resolve_default_quantity,
    round_to_lot,
    validate_preferences,
)

D = Decimal


def codes(prefs):
    return [r.code for r in validate_preferences(prefs)]


def test_defaults_are_valid():
    assert validate_preferences(TradingPreferences()) == []


def test_valid_full_preferences():
    prefs = TradingPreferences(
        confirm_on_order=False,
        confirm_on_cancel=True,
        default_price_level=PriceLevel.ASK1,
        default_quantity=PositionRatio(D("0.5")),
        hotkeys={"F1": HotkeyAction.BUY, "F2": HotkeyAction.SELL, "Ctrl+Shift+X": HotkeyAction.CANCEL_ALL},
    )
    assert validate_preferences(prefs) == []
    assert validate_preferences(TradingPreferences(default_price_level=D("10.50"))) == []


@pytest.mark.parametrize("price", [D("0"), D("-1"), D("NaN"), "ASK9"])
def test_bad_default_price(price):
    assert codes(TradingPreferences(default_price_level=price)) == ["INVALID_PRICE"]


@pytest.mark.parametrize("quantity", [PositionRatio(D("0")), PositionRatio(D("1.01")), FixedQuantity(0)])
def test_bad_default_quantity(quantity):
    assert codes(TradingPreferences(default_quantity=quantity)) == ["INVALID_QUANTITY"]


def test_hotkey_problems():
    prefs = TradingPreferences(
        hotkeys={"ctrl+b": "BUY", "B+Control": "SELL", "Ctrl+Alt": "BUY", "F13": "LAUNCH_ROCKETS"}
    )
    assert sorted(codes(prefs)) == ["DUPLICATE_HOTKEY", "INVALID_HOTKEY", "UNKNOWN_HOTKEY_ACTION"]
    many = {f"Ctrl+Alt+{c}": "BUY" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}
    many |= {f"Shift+F{n}": "SELL" for n in range(1, 16)}
    assert codes(TradingPreferences(hotkeys=many)) == ["TOO_MANY_HOTKEYS"]


@pytest.mark.parametrize(
    ("chord", "canonical"),
    [
        ("shift+ctrl+b", "CTRL+SHIFT+B"),
        ("F5", "F5"),
        ("Cmd + Enter", "META+ENTER"),
        ("Ctrl++", "CTRL++"),
        ("alt+/", "ALT+/"),
        ("", None),
        ("Ctrl+Ctrl+A", None),
        ("A+B", None),
        ("Ctrl+", None),
        ("Ctrl+买", None),
    ],
)
def test_normalize_chord(chord, canonical):
    assert normalize_chord(chord) == canonical


def test_round_to_lot():
    assert round_to_lot(1234, 100) == 1200
    assert round_to_lot(99, 100) == 0
    assert round_to_lot(345, 200, 1) == 345  # STAR: 200 minimum, then single shares
    assert round_to_lot(199, 200, 1) == 0


def test_sell_ratio_rounds_down_to_the_lot_but_may_sell_everything():
    kw = dict(side=Side.SELL, lot_size=100, sellable=1050)
    assert resolve_default_quantity(PositionRatio(D("0.5")), **kw) == 500  # 525 -> 500
    assert resolve_default_quantity(PositionRatio(D("1")), **kw) == 1050  # odd lot goes with the rest
    assert resolve_default_quantity(FixedQuantity(5000), **kw) == 1050
    assert resolve_default_quantity(FixedQuantity(250), **kw) == 200
    assert resolve_default_quantity(PositionRatio(D("0.5")), side=Side.SELL, lot_size=100, sellable=0) == 0


def test_buy_ratio_spends_that_share_of_cash_including_fees():
    qty = resolve_default_quantity(
        PositionRatio(D("0.5")), side=Side.BUY, lot_size=100, available_cash=D("20000"), price=D("10.00")
    )
    assert qty == 900  # 1000 shares would need 10005.10 > 10000
    assert estimate_buy_freeze(D("10.00"), qty) <= D("10000")
    assert estimate_buy_freeze(D("10.00"), qty + 100) > D("10000")


def test_buy_ratio_on_star_uses_single_share_steps():
    qty = resolve_default_quantity(
        PositionRatio(D("1")),
        side=Side.BUY,
        lot_size=200,
        increment=1,
        available_cash=D("10000"),
        price=D("40.00"),
    )
    assert estimate_buy_freeze(D("40.00"), qty) <= D("10000") < estimate_buy_freeze(D("40.00"), qty + 1)


def test_buy_without_a_price_or_fixed_quantity():
    assert resolve_default_quantity(PositionRatio(D("1")), side=Side.BUY, lot_size=100) == 0
    assert resolve_default_quantity(FixedQuantity(1234), side=Side.BUY, lot_size=100) == 1200
