"""Board eligibility as the API shows it."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from brokerql.domain.compliance.suitability import ELIGIBILITY, EligibilityBoard


@strawberry.type(
    description="Whether a client may buy on a board that needs eligibility (STAR, ChiNext, Stock Connect)."
)
class BoardEligibility:
    board: str = strawberry.field(description="STAR, CHINEXT or HK_CONNECT.")
    eligible: bool = strawberry.field(description="derived or granted: buys on this board are allowed.")
    derived: bool = strawberry.field(
        description="The client's own data meets the thresholds (average daily assets, experience)."
    )
    granted: bool = strawberry.field(description="An operator granted the board (setBoardEligibility).")
    min_average_assets: Decimal = strawberry.field(
        description="CNY average daily assets needed over the last 20 trading days."
    )
    min_experience_months: int = strawberry.field(description="Months of trading experience needed.")

    @classmethod
    def of(cls, board: EligibilityBoard, derived: bool, granted: bool) -> BoardEligibility:
        need = ELIGIBILITY[board]
        return cls(
            board=board.value, eligible=derived or granted, derived=derived, granted=granted,
            min_average_assets=need.min_average_assets, min_experience_months=need.min_experience_months,
        )  # fmt: skip
