"""The product lines beyond the cash account (C6 ETF, C7 margin trading, C8 index futures): one service
each, on top of the trading core (orders still go through `container.trading.place`)."""

from __future__ import annotations

from dataclasses import dataclass

from brokerql.services.products.futures import FuturesSettlementService, SettlementOutcome
from brokerql.services.products.margin import MarginService
from brokerql.services.products.queries import ProductQueries


@dataclass(frozen=True, slots=True)
class ProductServices:
    """`container.products`."""

    futures: FuturesSettlementService
    margin: MarginService
    queries: ProductQueries


__all__ = ["FuturesSettlementService", "MarginService", "ProductQueries", "ProductServices", "SettlementOutcome"]
