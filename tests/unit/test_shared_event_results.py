"""Subscribers with the same selection and viewer key share one execution of a shareable event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from strawberry.extensions import ParserCache

import brokerql.schema.graphql_core_fix  # noqa: F401 - installs the executor hook

CALLS: list[str] = []


@strawberry.type
class Tick:
    symbol: str

    @strawberry.field
    def price(self, info: strawberry.Info) -> str:
        CALLS.append(info.context.viewer)
        return f"{info.context.viewer}:10.00"


class Ctx:
    def __init__(self, viewer: str, share: bool = True) -> None:
        self.viewer = viewer
        self.shared_event_key = viewer if share else None


@strawberry.type
class Query:
    ok: bool = True


def make_schema(events: list[Tick]) -> strawberry.Schema:
    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def ticks(self) -> AsyncGenerator[Tick, None]:
            for tick in events:
                yield tick

    # As in production: the parser cache gives subscribers of the same text the same document.
    return strawberry.Schema(query=Query, subscription=Subscription, extensions=[ParserCache(maxsize=10)])


async def collect(schema: strawberry.Schema, context: Ctx) -> list[dict]:
    stream = await schema.subscribe("subscription { ticks { symbol price } }", context_value=context)
    return [result.data async for result in stream]


async def test_same_viewer_key_executes_once_per_event_and_keys_keep_views_apart() -> None:
    CALLS.clear()
    events = [Tick(symbol="600000"), Tick(symbol="600519")]
    for event in events:
        event.shared_results = {}  # type: ignore[attr-defined]
    schema = make_schema(events)
    gold_a, gold_b, std = await asyncio.gather(
        collect(schema, Ctx("GOLD")), collect(schema, Ctx("GOLD")), collect(schema, Ctx("STANDARD"))
    )
    assert gold_a == gold_b == [{"ticks": {"symbol": s, "price": "GOLD:10.00"}} for s in ("600000", "600519")]
    assert std == [{"ticks": {"symbol": s, "price": "STANDARD:10.00"}} for s in ("600000", "600519")]
    assert sorted(CALLS) == ["GOLD", "GOLD", "STANDARD", "STANDARD"]  # 2 events x 2 distinct viewers


async def test_events_without_a_cache_or_a_key_run_for_every_subscriber() -> None:
    CALLS.clear()
    shareable = Tick(symbol="600000")
    shareable.shared_results = {}  # type: ignore[attr-defined]
    await asyncio.gather(*(collect(make_schema([shareable]), Ctx("GOLD", share=False)) for _ in range(3)))
    await asyncio.gather(*(collect(make_schema([Tick(symbol="600000")]), Ctx("GOLD")) for _ in range(3)))
    assert CALLS == ["GOLD"] * 6
