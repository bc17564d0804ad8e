"""The product lines beyond the cash account (C6 ETF, C7 margin trading, C8 index futures): one service
each, on top of the trading core (orders still go through `container.trading.place`).

Nothing is imported here at module level: placeOrder imports the credit rules of this package, and the
services here import the trading core, so the package itself stays free of either."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brokerql.services.products.etf import EtfService
    from brokerql.services.products.futures import FuturesSettlementService
    from brokerql.services.products.margin import MarginService
    from brokerql.services.products.queries import ProductQueries


@dataclass(frozen=True, slots=True)
class ProductServices:
    """`container.products`."""

    futures: FuturesSettlementService
    margin: MarginService
    etf: EtfService
    queries: ProductQueries
