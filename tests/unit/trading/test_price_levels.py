"""Quote-linked prices: ASK1..5, BID1..5 and LAST, and empty levels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokerql.domain.trading import PriceLevel, no_quote_at_level, resolve_price_level

D = Decimal
BIDS = [(D("9.99"), 500), (D("9.98"), 300), (D("9.97"), 0)]
ASKS = [(D("10.00"), 200), (D("10.01"), 100), (D("10.02"), 100), (D("10.03"), 100), (D("10.05"), 900)]


@pytest.mark.parametrize(
    ("level", "price"),
    [
        (PriceLevel.ASK1, "10.00"),
        (PriceLevel.ASK5, "10.05"),
        (PriceLevel.BID1, "9.99"),
        (PriceLevel.BID2, "9.98"),
        (PriceLevel.LAST, "10.00"),
    ],
)
def test_levels_resolve_to_book_prices(level, price):
    assert resolve_price_level(level, BIDS, ASKS, D("10.00")) == D(price)


@pytest.mark.parametrize("level", [PriceLevel.BID3, PriceLevel.BID4, PriceLevel.BID5])
def test_missing_or_empty_levels_resolve_to_none(level):
    assert resolve_price_level(level, BIDS, ASKS, D("10")) is None  # BID3 has no quantity


def test_no_last_price_and_the_rejection():
    assert resolve_price_level(PriceLevel.LAST, [], [], None) is None
    rejection = no_quote_at_level(PriceLevel.ASK1)
    assert (rejection.code, rejection.field) == ("NO_QUOTE_AT_LEVEL", "priceLevel")


def test_depths():
    assert [lvl.depth for lvl in PriceLevel] == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 0]
