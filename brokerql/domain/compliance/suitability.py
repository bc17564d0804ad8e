"""Investor suitability (投资者适当性): product risk against the client's risk level, and board eligibility.

Rule sources (public):
- CSRC, Measures for the Administration of Suitability of Securities and Futures Investors
  (《证券期货投资者适当性管理办法》, CSRC Order No. 130, 2016, amended 2020), art. 18-22: products are
  rated, clients are matched; a client may ask for a product above its level only after a written
  warning and its confirmation, and the lowest-category client may never be sold a product above
  its level. The SAC implementing guideline (《证券经营机构投资者适当性管理实施指引（试行）》) rates
  products R1-R5 and investors C1-C5; this broker refuses R5 products above the client's level.
- STAR Market: SSE, Special Provisions on STAR Market Trading (《上海证券交易所科创板股票交易特别规定》),
  art. 4: 500,000 CNY average daily assets over the 20 trading days before the request, and 24
  months of securities trading experience.
- ChiNext: SZSE, ChiNext Investor Suitability Measures (《深圳证券交易所创业板投资者适当性管理实施办法
  （2020年修订）》), art. 4: 100,000 CNY over 20 trading days, and 24 months of experience.
- Stock Connect southbound: SSE/SZSE Stock Connect implementation rules (《上海证券交易所沪港通业务实施
  办法》 art. 12; 《深圳证券交易所深港通业务实施办法》 art. 13): 500,000 CNY over 20 trading days.
An operator may grant a board to a client (documented evidence outside the system, e.g. assets held
elsewhere); the grant is logged by the service that records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import Rejection
from brokerql.domain.market.boards import Board

ELIGIBILITY_WINDOW_DAYS = 20  # trading days over which average daily assets are taken


class ProductRisk(StrEnum):
    """Product risk level, R1 (low) to R5 (high)."""

    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R4 = "R4"
    R5 = "R5"

    @property
    def rank(self) -> int:
        return int(self.value[1])


HIGHEST_RISK = ProductRisk.R5
LOWEST_CLIENT_LEVEL = "C1"

# Each board's product risk: broad index ETFs R2, main-board stocks R3, the growth boards and
# Stock Connect shares (foreign market, no price limits, currency risk) R4, index futures R5.
BOARD_RISK: dict[Board, ProductRisk] = {
    Board.ETF: ProductRisk.R2,
    Board.SSE_MAIN: ProductRisk.R3,
    Board.SZSE_MAIN: ProductRisk.R3,
    Board.CHINEXT: ProductRisk.R4,
    Board.STAR: ProductRisk.R4,
    Board.HK: ProductRisk.R4,
    Board.CFFEX_INDEX_FUTURE: ProductRisk.R5,
}


class EligibilityBoard(StrEnum):
    """Boards a client must be enabled for (the key an operator grants, stored with the profile)."""

    STAR = "STAR"
    CHINEXT = "CHINEXT"
    HK_CONNECT = "HK_CONNECT"


@dataclass(frozen=True, slots=True)
class BoardEligibility:
    """What a client needs for a board: average daily assets (CNY) and months of trading experience."""

    min_average_assets: Decimal
    min_experience_months: int


ELIGIBILITY_BOARD: dict[Board, EligibilityBoard] = {
    Board.STAR: EligibilityBoard.STAR,
    Board.CHINEXT: EligibilityBoard.CHINEXT,
    Board.HK: EligibilityBoard.HK_CONNECT,
}
ELIGIBILITY: dict[EligibilityBoard, BoardEligibility] = {
    EligibilityBoard.STAR: BoardEligibility(Decimal(500_000), 24),
    EligibilityBoard.CHINEXT: BoardEligibility(Decimal(100_000), 24),
    EligibilityBoard.HK_CONNECT: BoardEligibility(Decimal(500_000), 0),
}


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """What the rules need to know about a client, read from its profile and asset history."""

    risk_level: str  # C1..C5 from the risk assessment
    average_daily_assets: Decimal  # over the last ELIGIBILITY_WINDOW_DAYS trading days (missing days = 0)
    experience_months: int  # since the client's first trade
    granted: frozenset[str] = frozenset()  # EligibilityBoard values an operator granted

    @property
    def risk_rank(self) -> int:
        """1 (C1) to 5 (C5); an unknown or missing assessment counts as the lowest."""
        value = self.risk_level or ""
        return int(value[1]) if len(value) == 2 and value[0] == "C" and value[1] in "12345" else 1


def average_daily_assets(records: list[Decimal]) -> Decimal:
    """The average over the window from the latest daily records (at most the window's): a trading day
    without a record counts as zero, so a client with less history than the window averages lower."""
    return sum(records[:ELIGIBILITY_WINDOW_DAYS], Decimal(0)) / ELIGIBILITY_WINDOW_DAYS


def derived_eligibility(board: EligibilityBoard, facts: ClientFacts) -> bool:
    """Whether the client's own data meets the board's thresholds (without any operator grant)."""
    need = ELIGIBILITY[board]
    enough_assets = facts.average_daily_assets >= need.min_average_assets
    return enough_assets and facts.experience_months >= need.min_experience_months


def is_eligible(board: EligibilityBoard, facts: ClientFacts) -> bool:
    """Eligible from the client's data, or by an operator's grant."""
    return board.value in facts.granted or derived_eligibility(board, facts)


def board_refusal(board: Board, facts: ClientFacts) -> Rejection | None:
    """BOARD_NOT_ELIGIBLE for an opening order on a board the client is not enabled for."""
    key = ELIGIBILITY_BOARD.get(board)
    if key is None or is_eligible(key, facts):
        return None
    need = ELIGIBILITY[key]
    experience = f" and {need.min_experience_months} months of trading experience" if need.min_experience_months else ""
    return Rejection(
        "BOARD_NOT_ELIGIBLE",
        f"Buying on {key} needs {need.min_average_assets:,} CNY average daily assets over "
        f"{ELIGIBILITY_WINDOW_DAYS} trading days{experience} (yours: {facts.average_daily_assets:,.2f} CNY, "
        f"{facts.experience_months} months), or an operator's approval.",
        "symbol",
    )


def suitability_refusal(board: Board, facts: ClientFacts, *, acknowledged: bool) -> Rejection | None:
    """SUITABILITY_MISMATCH when the product's risk is above the client's level and may not be sold
    (R5, or a C1 client), or may be sold only with an acknowledgement that was not given."""
    risk = BOARD_RISK[board]
    if risk.rank <= facts.risk_rank:
        return None
    level = f"C{facts.risk_rank}"
    if risk is HIGHEST_RISK or level == LOWEST_CLIENT_LEVEL:
        return Rejection(
            "SUITABILITY_MISMATCH", f"{risk} products cannot be sold to a {level} client (refused outright).", "symbol"
        )
    if acknowledged:
        return None
    return Rejection(
        "SUITABILITY_MISMATCH",
        f"This is an {risk} product, above your risk level {level}: confirm with riskAcknowledged: true "
        "after reading the risk warning.",
        "riskAcknowledged",
    )


def needs_acknowledgement(board: Board, facts: ClientFacts) -> bool:
    """Whether an accepted order on this board carries an acknowledgement that must be recorded."""
    return BOARD_RISK[board].rank > facts.risk_rank
