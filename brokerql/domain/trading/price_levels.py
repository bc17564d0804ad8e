"""Quote levels an order can take its price from (C1 flash order: "buy at ask 1")."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

from brokerql.domain.common import Rejection

Level = tuple[Decimal, int]  # (price, quantity) of one depth level, best first


class PriceLevel(StrEnum):
    """A side and depth of the book, or the last trade price."""

    ASK1 = "ASK1"
    ASK2 = "ASK2"
    ASK3 = "ASK3"
    ASK4 = "ASK4"
    ASK5 = "ASK5"
    BID1 = "BID1"
    BID2 = "BID2"
    BID3 = "BID3"
    BID4 = "BID4"
    BID5 = "BID5"
    LAST = "LAST"

    @property
    def depth(self) -> int:
        """1-based depth of the level (0 for LAST)."""
        return 0 if self is PriceLevel.LAST else int(self.value[-1])


def resolve_price_level(
    level: PriceLevel, bids: Sequence[Level], asks: Sequence[Level], last: Decimal | None
) -> Decimal | None:
    """The price at `level`, or None when the book has nothing there.

    A level with no quantity counts as empty: its price is stale, and an order priced from it would
    not trade where the client saw it.
    """
    if level is PriceLevel.LAST:
        return last if last is not None and last > 0 else None
    side = asks if level.name.startswith("ASK") else bids
    if len(side) < level.depth:
        return None
    price, quantity = side[level.depth - 1]
    return price if quantity > 0 and price > 0 else None


def no_quote_at_level(level: PriceLevel, field: str = "priceLevel") -> Rejection:
    """The rejection for an order priced from an empty level."""
    return Rejection("NO_QUOTE_AT_LEVEL", f"there is no quote at {level} right now", field)
