"""Which account may trade what (C2), whom a session acts for, and unambiguous price instructions.

These are admission rules: pure functions of the request and reference data, each returning the
Rejection that refuses an order or None. Futures and margin arithmetic (multipliers, collateral)
is not decided here, only *which account type may hold which product*.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import OrderType, Rejection
from brokerql.domain.market.boards import Board
from brokerql.domain.trading.account import AccountType
from brokerql.domain.trading.price_levels import PriceLevel


class ProductKind(StrEnum):
    """The kind of product an instrument is, as far as account types are concerned."""

    A_SHARE = "A_SHARE"  # SSE/SZSE main board, ChiNext, STAR stocks
    FUND = "FUND"  # exchange-traded funds (ETFs)
    HK_CONNECT = "HK_CONNECT"  # HK stocks bought southbound through Stock Connect (港股通)
    INDEX_FUTURE = "INDEX_FUTURE"  # CFFEX stock-index futures


PRODUCT_OF_BOARD: dict[Board, ProductKind] = {
    Board.SSE_MAIN: ProductKind.A_SHARE,
    Board.SZSE_MAIN: ProductKind.A_SHARE,
    Board.CHINEXT: ProductKind.A_SHARE,
    Board.STAR: ProductKind.A_SHARE,
    Board.ETF: ProductKind.FUND,
    Board.HK: ProductKind.HK_CONNECT,
    Board.CFFEX_INDEX_FUTURE: ProductKind.INDEX_FUTURE,
}

# The table: what each account type may trade. A stock (cash) account holds A-shares, funds and,
# for eligible clients, Stock Connect shares (the southbound eligibility is a separate rule); a credit
# (margin) account only securities the broker accepts as collateral (可充抵保证金证券, under the SSE/SZSE
# Margin Trading and Securities Lending Rules) — financing buys and short sales further need the
# narrower list of 标的证券, which the margin verbs check; a futures account only futures.
ACCOUNT_PRODUCTS: dict[AccountType, frozenset[ProductKind]] = {
    AccountType.CASH: frozenset({ProductKind.A_SHARE, ProductKind.FUND, ProductKind.HK_CONNECT}),
    AccountType.MARGIN: frozenset({ProductKind.A_SHARE, ProductKind.FUND}),
    AccountType.FUTURES: frozenset({ProductKind.INDEX_FUTURE}),
}

# The demo's collateral-eligible securities: every demo A-share and both ETFs (large, liquid CSI 300
# names); brokers publish the real lists from the exchanges' ones.
MARGIN_ELIGIBLE: frozenset[str] = frozenset(
    {"600000", "600519", "601318", "000001", "000858", "300750", "688981", "510300", "510050"}
)

_ACCOUNT_WORDS = {
    AccountType.CASH: "a stock (cash) account trades A-shares, ETFs and Stock Connect shares",
    AccountType.MARGIN: "a margin account trades the margin-eligible securities list",
    AccountType.FUTURES: "a futures account trades futures only",
}


def product_refusal(account_type: AccountType, symbol: str, board: Board) -> Rejection | None:
    """PRODUCT_NOT_ALLOWED when an account of `account_type` may not trade this instrument."""
    kind = PRODUCT_OF_BOARD[board]
    allowed = kind in ACCOUNT_PRODUCTS[account_type]
    if allowed and account_type is AccountType.MARGIN and symbol not in MARGIN_ELIGIBLE:
        allowed = False
    if allowed:
        return None
    return Rejection(
        "PRODUCT_NOT_ALLOWED", f"{symbol} is not tradable in a {account_type} account: {_ACCOUNT_WORDS[account_type]}.",
        "symbol",
    )  # fmt: skip


def session_refusal(session_account_type: str | None, account_type: AccountType) -> Rejection | None:
    """ACCOUNT_TYPE_NOT_IN_SESSION when the session was opened for another account type.

    A login chooses stock/margin or futures, and the session acts only there; `switchAccount` issues
    a token for another type. None (a caller without a session, e.g. an internal job) is not checked.
    """
    if session_account_type is None or session_account_type == account_type.value:
        return None
    return Rejection(
        "ACCOUNT_TYPE_NOT_IN_SESSION",
        f"This session acts for the {session_account_type} account; switch to {account_type} first (switchAccount).",
        "accountId",
    )


def price_instruction_refusal(
    order_type: OrderType, price: Decimal | None, price_level: PriceLevel | None
) -> Rejection | None:
    """BAD_USER_INPUT for an ambiguous price: a price and a priceLevel together, or MARKET with a price.

    The client's own limit must never be silently replaced by a quote level, nor a price ignored.
    """
    if price is not None and price_level is not None:
        return Rejection("BAD_USER_INPUT", "Give price or priceLevel, not both.", "price")
    if order_type is OrderType.MARKET and price is not None:
        return Rejection("BAD_USER_INPUT", "A MARKET order takes no price: use type LIMIT, or drop price.", "price")
    if order_type is OrderType.MARKET and price_level is not None:
        return Rejection(
            "BAD_USER_INPUT", "A priceLevel prices a LIMIT order: give type LIMIT with priceLevel.", "priceLevel"
        )
    return None
