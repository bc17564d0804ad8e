"""The compliance checks of one order, in order: the first that refuses wins.

Called once by the order admission (placeOrder and everything that places through it). Each rule
lives in its own module; this sequence only fixes their order and which side they apply to.
"""

from __future__ import annotations

from brokerql.domain.common import Rejection, Side
from brokerql.domain.compliance.suitability import ClientFacts, board_refusal, suitability_refusal
from brokerql.domain.market.boards import Board
from brokerql.domain.trading.account import AccountType
from brokerql.domain.trading.products import product_refusal, session_refusal


def opens_exposure(side: Side, board: Board) -> bool:
    """Buys open exposure; on futures a sell may open a short, so every futures order counts."""
    return side is Side.BUY or board is Board.CFFEX_INDEX_FUTURE


def compliance_refusal(
    *,
    session_account_type: str | None,
    account_type: AccountType,
    symbol: str,
    board: Board,
    side: Side,
    facts: ClientFacts,
    risk_acknowledged: bool,
) -> Rejection | None:
    """Session account type, then products per account, then (for opening orders) board eligibility
    and suitability. Selling what one holds is never blocked by eligibility or suitability."""
    refused = session_refusal(session_account_type, account_type) or product_refusal(account_type, symbol, board)
    if refused is not None or not opens_exposure(side, board):
        return refused
    return board_refusal(board, facts) or suitability_refusal(board, facts, acknowledged=risk_acknowledged)
