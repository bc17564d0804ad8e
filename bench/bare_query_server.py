"""The floor for the query path: bare strawberry with ParserCache + ValidationCache, the same query shape.

    python bench/bare_query_server.py --port P

`quote(symbol)` with the Level-1 fields of BrokerQL's `Quote` (same names and scalar kinds), answered
from one in-memory object: no authentication, entitlements, limits, metrics or database. Served by
uvicorn with the options `brokerql serve` uses.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from decimal import Decimal

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.type
class Quote:
    symbol: str
    last: Decimal | None
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    bid_size: int
    ask_size: int
    volume: int
    turnover: Decimal
    delayed: bool
    as_of: datetime


@strawberry.type
class Query:
    @strawberry.field
    def quote(self, symbol: str) -> Quote:
        p = Decimal("13.52")
        return Quote(
            symbol=symbol, last=p, open=p, high=p, low=p, bid=p, ask=p, bid_size=100, ask_size=100,
            volume=1000, turnover=Decimal("13520.00"), delayed=False, as_of=datetime.now(UTC),
        )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    schema = strawberry.Schema(query=Query, extensions=[ParserCache(), ValidationCache()])
    graphql = GraphQL(schema, graphql_ide=None)

    async def healthz(_request: object) -> object:
        from starlette.responses import PlainTextResponse

        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/healthz", healthz), Route("/graphql", graphql, methods=["GET", "POST"])])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
