"""The floor for the order path: bare strawberry placing an order with one durable commit, and pushing it.

    python bench/bare_order_server.py --port P --sqlite FILE
    python bench/bare_order_server.py --port P --postgres DSN

What `bench/order_path_load.py` drives, with the same documents: `placeOrder(input)` answers
`{order {id} errors {code}}` after one durable single-row INSERT is committed (SQLite: one writer
thread, WAL, synchronous=FULL, BEGIN IMMEDIATE, as the raw-commit baseline; PostgreSQL: a pool of 10
connections, each INSERT its own transaction, server defaults), then sends ACCEPTED and FILL events to
the `orderEvents(accountId)` subscriptions of the account (an in-process queue per subscription,
executed by strawberry per subscriber). No authentication, validation of the order, risk checks,
matching, ledger or outbox: what is left is HTTP, GraphQL and a durable commit per order, the least an
acknowledged order costs with this stack. Served by uvicorn with the options `brokerql serve` uses.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sqlite3
from collections import defaultdict
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

ROW = "INSERT INTO bench_orders (id, account, symbol, side, quantity) VALUES ({})"


class SqliteOrders:
    """One connection on one thread: SQLite has one writer."""

    def __init__(self, path: str) -> None:
        self.thread = ThreadPoolExecutor(1)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS bench_orders (id TEXT PRIMARY KEY, account TEXT, symbol TEXT, side TEXT, "
            "quantity INTEGER)"
        )

    def _insert(self, row: tuple[Any, ...]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(ROW.format("?, ?, ?, ?, ?"), row)
        self.db.execute("COMMIT")

    async def insert(self, row: tuple[Any, ...]) -> None:
        await asyncio.get_running_loop().run_in_executor(self.thread, self._insert, row)


class PostgresOrders:
    def __init__(self, dsn: str) -> None:
        self.dsn, self.pool = dsn, None
        self.opening: asyncio.Future[None] | None = None  # the first orders wait for one pool and one table

    async def _open(self) -> None:
        import asyncpg

        pool = await asyncpg.create_pool(self.dsn, min_size=10, max_size=10)
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS bench_orders (id text PRIMARY KEY, account text, symbol text, "
            "side text, quantity integer)"
        )
        self.pool = pool

    async def insert(self, row: tuple[Any, ...]) -> None:
        if self.pool is None:
            self.opening = self.opening or asyncio.ensure_future(self._open())
            await self.opening
        await self.pool.execute(ROW.format("$1, $2, $3, $4, $5"), *row)  # type: ignore[attr-defined]


@strawberry.input
class PlaceOrderInput:
    account_id: strawberry.ID
    symbol: str
    side: str
    type: str
    quantity: int


@strawberry.type
class Order:
    id: strawberry.ID


@strawberry.type
class UserError:
    code: str


@strawberry.type
class PlaceOrderPayload:
    order: Order | None
    errors: list[UserError]


@strawberry.type
class OrderEvent:
    kind: str
    order: Order


def build_app(store: SqliteOrders | PostgresOrders) -> Starlette:
    followers: dict[str, set[asyncio.Queue[OrderEvent]]] = defaultdict(set)
    ids = itertools.count(1)

    @strawberry.type
    class Query:
        @strawberry.field
        def ok(self) -> bool:
            return True

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        async def place_order(self, input: PlaceOrderInput) -> PlaceOrderPayload:
            order = Order(id=strawberry.ID(f"o{next(ids)}"))
            await store.insert((order.id, input.account_id, input.symbol, input.side, input.quantity))
            for queue in followers.get(input.account_id, ()):
                queue.put_nowait(OrderEvent(kind="ACCEPTED", order=order))
                queue.put_nowait(OrderEvent(kind="FILL", order=order))
            return PlaceOrderPayload(order=order, errors=[])

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def order_events(self, account_id: strawberry.ID) -> AsyncGenerator[OrderEvent, None]:
            queue: asyncio.Queue[OrderEvent] = asyncio.Queue()
            followers[account_id].add(queue)
            try:
                while True:
                    yield await queue.get()
            finally:
                followers[account_id].discard(queue)

    schema = strawberry.Schema(Query, Mutation, Subscription, extensions=[ParserCache, ValidationCache])
    graphql = GraphQL(schema, graphql_ide=None)

    async def healthz(_request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    routes = [Route("/healthz", healthz), Route("/graphql", graphql, methods=["POST"])]
    return Starlette(routes=[*routes, WebSocketRoute("/graphql", graphql)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite", help="the database file")
    where.add_argument("--postgres", help="a libpq DSN")
    args = parser.parse_args()
    store = SqliteOrders(args.sqlite) if args.sqlite else PostgresOrders(args.postgres)
    uvicorn.run(build_app(store), host="127.0.0.1", port=args.port, ws="websockets-sansio",
                ws_per_message_deflate=False, log_level="warning")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
