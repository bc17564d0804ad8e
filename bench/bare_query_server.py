"""The floor for the query path: bare strawberry with ParserCache + ValidationCache, the same query shape.

    python bench/bare_query_server.py --port P [--workers N]

`quote(symbol)` with the Level-1 fields of BrokerQL's `Quote` (same names and scalar kinds), answered
from one in-memory object: no authentication, entitlements, limits, metrics or database. Served by
uvicorn with the options `brokerql serve` uses.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

HERE = Path(__file__).resolve().parent


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


def build_app() -> Starlette:
    schema = strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache])
    graphql = GraphQL(schema, graphql_ide=None)

    async def healthz(_request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/healthz", healthz), Route("/graphql", graphql, methods=["GET", "POST"])])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (as `serve --workers`)")
    args = parser.parse_args()
    if args.workers > 1:  # each worker imports this file and builds the app, as brokerql's workers do
        # info: each worker logs its start, which the harness waits for (no access lines)
        uvicorn.run("bare_query_server:build_app", factory=True, workers=args.workers, app_dir=str(HERE),
                    host="127.0.0.1", port=args.port, log_level="info", access_log=False)  # fmt: skip
    else:
        uvicorn.run(build_app(), host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
