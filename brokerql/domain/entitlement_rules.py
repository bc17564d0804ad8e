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
