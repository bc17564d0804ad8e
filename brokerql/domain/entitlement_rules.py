"""What a tier's entitlements allow beyond single fields: quote views (C9) and trading per account type."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from brokerql.domain.identity.tiers import (
    QUOTES_FUTURES_REALTIME,
    QUOTES_HK_DELAYED,
    QUOTES_HK_REALTIME,
    QUOTES_LEVEL1,
    TRADING_BASIC,
    TRADING_FAST,
    TRADING_MARGIN,
)
from brokerql.domain.market.boards import Board


class QuoteView(StrEnum):
    REALTIME = "REALTIME"
    DELAYED = "DELAYED"


def quote_view(board: Board, grants: Callable[[str], bool]) -> QuoteView | str:
    """The best view `grants` allows, or the entitlement key that is missing for any view at all."""
    if board is Board.HK:
        if grants(QUOTES_HK_REALTIME):
            return QuoteView.REALTIME
        return QuoteView.DELAYED if grants(QUOTES_HK_DELAYED) else QUOTES_HK_DELAYED
    if board is Board.CFFEX_INDEX_FUTURE:
        return QuoteView.REALTIME if grants(QUOTES_FUTURES_REALTIME) else QUOTES_FUTURES_REALTIME
    return QuoteView.REALTIME if grants(QUOTES_LEVEL1) else QUOTES_LEVEL1


def trading_entitlement(account_type: str) -> str:
    """The entitlement needed to place orders in an account of this type (margin needs its own)."""
    return TRADING_MARGIN if account_type == "MARGIN" else TRADING_BASIC


def order_entitlements(account_type: str, flash: bool) -> tuple[str, ...]:
    """Every entitlement an order needs: trading on its account type, and for a flash order (priced
    from a quote level) fast trading."""
    return (trading_entitlement(account_type),) + ((TRADING_FAST,) if flash else ())


def preference_entitlements(sets_hotkeys: bool) -> tuple[str, ...]:
    """Setting a hotkey map is fast trading (D, VIP fast order entry); other preferences need nothing."""
    return (TRADING_FAST,) if sets_hotkeys else ()


# What each rule above may check, for the schema to declare on the operations that apply the rule
# (entitlementCatalog lists them): derived from the rules, so a new key in a rule shows up there.
QUOTE_VIEW_KEYS: tuple[str, ...] = (QUOTES_LEVEL1, QUOTES_HK_DELAYED, QUOTES_HK_REALTIME, QUOTES_FUTURES_REALTIME)
ORDER_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(
        k for t in ("CASH", "MARGIN", "FUTURES") for flash in (False, True) for k in order_entitlements(t, flash)
    )
)
ACCOUNT_SWITCH_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(trading_entitlement(t) for t in ("CASH", "MARGIN", "FUTURES"))
)
PREFERENCE_KEYS: tuple[str, ...] = preference_entitlements(True)
