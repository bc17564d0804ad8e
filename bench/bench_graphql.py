"""Small-query throughput of the real schema, with and without the parser/validation caches.

Runs in one process against a seeded SQLite database and the in-process bus (exchange running, so
quotes are live): `quote(symbol)` as a logged-in GOLD client, Level-1 and Level-2 fields. Prints
executions/s for the production schema (ParserCache + ValidationCache + limits) and for a bare
schema of the same types without any extension, and their ratio.

    python bench/bench_graphql.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import strawberry

from brokerql.api.context import Context
from brokerql.container import Container
from brokerql.schema import Mutation, Query, Subscription, build_schema
from brokerql.schema.base import BrokerSchema
from brokerql.schema.entitlements import Entitlement
from brokerql.services.seed import seed_demo
from brokerql.settings import load_settings
from brokerql.store.migrate import upgrade_async

QUERY = """query Q($s: String!) { quote(symbol: $s) {
  symbol name last open high low prevClose bid ask bidSize askSize volume turnover delayed asOf
  depth { bids { price quantity } asks { price quantity } } } }"""


async def measure(schema: strawberry.Schema, context: Context, seconds: float) -> float:
    variables = {"s": "600000"}
    result = await schema.execute(QUERY, variable_values=variables, context_value=context)
    assert not result.errors, result.errors
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(100):
            await schema.execute(QUERY, variable_values=variables, context_value=context)
        count += 100
    return count / (time.perf_counter() - started)


async def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = load_settings(
            database_url=url,
            secret_key="bench-secret-0123456789-abcdefghijklmnopq",
            demo=True,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            market_warmup_steps=10,
        )
        await upgrade_async(url)
        container = Container.build(settings)
        await seed_demo(container.db, container.passwords)
        await container.start()
        try:
            login = await container.auth.login("gold001", "Demo#2026", None)
            context = Context(container)
            context._header_token = login.access_token
            production = build_schema()
            bare = BrokerSchema(
                query=Query, mutation=Mutation, subscription=Subscription, schema_directives=[Entitlement]
            )
            # Alternate the runs so background load (the simulator) affects both alike.
            cached = [await measure(production, context, seconds / 2) for _ in range(2)]
            uncached = [await measure(bare, context, seconds / 2) for _ in range(2)]
        finally:
            await container.stop()
    best_cached, best_bare = max(cached), max(uncached)
    print(f"quote query, production schema (parser+validation caches): {best_cached:8.0f} executions/s")
    print(f"quote query, bare schema (no extensions):                   {best_bare:8.0f} executions/s")
    print(f"ratio: {best_cached / best_bare:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    asyncio.run(main(parser.parse_args().seconds))
