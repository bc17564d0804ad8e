"""Boards (trading venues and segments) and the per-board rules orders must follow."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Board(StrEnum):
    """Where an instrument trades; each board carries its own lot, tick, limit and settlement rules."""

    SSE_MAIN = "SSE_MAIN"
    SZSE_MAIN = "SZSE_MAIN"
    CHINEXT = "CHINEXT"
    STAR = "STAR"
    ETF = "ETF"
    HK = "HK"
    CFFEX_INDEX_FUTURE = "CFFEX_INDEX_FUTURE"


class Currency(StrEnum):
    """Settlement currency of an instrument."""

    CNY = "CNY"
    HKD = "HKD"


@dataclass(frozen=True, slots=True)
class BoardRules:
    """Static trading rules of one board.

    `lot_size` is the default board lot (HK lots come from the instrument instead). `buy_increment`
    differs from the lot only on STAR, where buys start at 200 shares and then go up one by one.
    `limit_pct` is None where the exchange has no daily price limit (HK). `t_plus` is how many
    trading days after purchase a position becomes sellable (A-share stocks and ETFs: 1).
    """

    lot_size: int
    buy_increment: int | None
    tick_size: Decimal
    limit_pct: Decimal | None
    st_limit_pct: Decimal | None
    t_plus: int
    currency: Currency
    price_cage: bool
    multiplier: int = 1
    cash_days: int = 1  # daily settlements before sale proceeds may leave (Stock Connect: T+2)


_A_SHARE_TICK = Decimal("0.01")
_TEN = Decimal("0.10")
_TWENTY = Decimal("0.20")
_FIVE = Decimal("0.05")

BOARD_RULES: dict[Board, BoardRules] = {
    Board.SSE_MAIN: BoardRules(100, None, _A_SHARE_TICK, _TEN, _FIVE, 1, Currency.CNY, False),
    Board.SZSE_MAIN: BoardRules(100, None, _A_SHARE_TICK, _TEN, _FIVE, 1, Currency.CNY, False),
    # ST stocks on the growth boards keep the 20% band since the 2020 registration reform.
    Board.CHINEXT: BoardRules(100, None, _A_SHARE_TICK, _TWENTY, _TWENTY, 1, Currency.CNY, True),
    Board.STAR: BoardRules(200, 1, _A_SHARE_TICK, _TWENTY, _TWENTY, 1, Currency.CNY, True),
    # Equity ETFs really are T+1 on SSE/SZSE; cross-border/bond ETFs (T+0) are out of scope here.
    Board.ETF: BoardRules(100, None, Decimal("0.001"), _TEN, None, 1, Currency.CNY, False),
    # Stock Connect southbound: T+0 trading, cash settled T+2 (ChinaClear southbound settlement).
    Board.HK: BoardRules(100, None, Decimal("0.01"), None, None, 0, Currency.HKD, False, cash_days=2),
    Board.CFFEX_INDEX_FUTURE: BoardRules(1, None, Decimal("0.2"), _TEN, None, 0, Currency.CNY, False, 300),
}

# SEHK spread table (Part A): (upper bound of the band, inclusive; tick inside the band).
HK_SPREAD_TABLE: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(upper), Decimal(tick))
    for upper, tick in (
        ("0.25", "0.001"),
        ("0.50", "0.005"),
        ("10", "0.01"),
        ("20", "0.02"),
        ("100", "0.05"),
        ("200", "0.1"),
        ("500", "0.2"),
        ("1000", "0.5"),
        ("2000", "1"),
        ("5000", "2"),
        ("9995", "5"),
    )
)


def hk_tick(price: Decimal, *, above: bool = False) -> Decimal:
    """Tick of the SEHK band holding `price`; with `above`, the band just above it (for stepping up)."""
    for upper, tick in HK_SPREAD_TABLE:
        if price < upper or (price == upper and not above):
            return tick
    return HK_SPREAD_TABLE[-1][1]
