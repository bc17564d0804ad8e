"""graphql-core 3.3.2 leaks per delivered subscription event; brokerql.schema.graphql_core_fix stops it.

Each event runs on `build_per_event_executor(payload)`, a shallow copy sharing the operation executor's
`_relevant_sub_fields` memo. Nested object fields add one entry per event to that shared dict, forever.
These tests run events through graphql-core's own `map_source_to_response_event` (and through a
strawberry schema) and measure the operation executor's memo: flat with the fix, growing without.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import strawberry
from graphql import build_schema, parse
from graphql.execution import map_source_to_response_event
from graphql.execution.executor import Executor

from brokerql.schema import graphql_core_fix

SDL = """
type Query { noop: String }
type Level { price: String quantity: Int }
type Depth { bids: [Level] asks: [Level] }
type Quote { symbol: String last: String depth: Depth }
type Subscription { quote: Quote }
"""
DOCUMENT = parse("subscription { quote { symbol last depth { bids { price quantity } asks { price } } } }")


async def events(n: int) -> AsyncIterator[dict]:
    for i in range(n):
        level = {"price": f"13.{i % 100:02d}", "quantity": 100}
        yield {"quote": {"symbol": "600000", "last": "13.52", "depth": {"bids": [level] * 3, "asks": [level]}}}


async def memo_size_after(n: int) -> int:
    executor = Executor.build(build_schema(SDL), DOCUMENT)
    assert isinstance(executor, Executor), executor
    results = [result async for result in map_source_to_response_event(executor, events(n))]
    assert len(results) == n and all(r.errors is None for r in results)
    assert results[-1].data["quote"]["depth"]["bids"][0]["quantity"] == 100
    return len(executor._relevant_sub_fields)


async def test_the_per_event_memo_stays_flat_with_the_fix() -> None:
    graphql_core_fix.install()
    assert await memo_size_after(10) == await memo_size_after(500)


async def test_without_the_fix_the_memo_grows_with_every_event(monkeypatch: pytest.MonkeyPatch) -> None:
    # The control: proves the test above measures the leak (graphql-core 3.3.2 as released).
    monkeypatch.setattr(Executor, "build_per_event_executor", graphql_core_fix._original)
    small, large = await memo_size_after(10), await memo_size_after(500)
    assert large > small and large >= 500


@strawberry.type
class _Quote:
    symbol: str
    depth: list[list[str]]
    nested: _Inner


@strawberry.type
class _Inner:
    value: int


@strawberry.type
class _Query:
    noop: str = ""


async def test_through_strawberry_the_memo_stays_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Executor] = []
    patched = Executor.build_per_event_executor

    def spy(self: Executor, payload: object) -> Executor:
        if self not in seen:
            seen.append(self)
        return patched(self, payload)

    monkeypatch.setattr(Executor, "build_per_event_executor", spy)

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def quote(self, n: int) -> AsyncIterator[_Quote]:
            for i in range(n):
                yield _Quote(symbol="600000", depth=[["13.52", str(i)]], nested=_Inner(value=i))

    schema = strawberry.Schema(query=_Query, subscription=Subscription)
    sizes = []
    for n in (10, 300):
        stream = await schema.subscribe("subscription($n: Int!) { quote(n: $n) { symbol nested { value } } }",
                                        variable_values={"n": n})  # fmt: skip
        results = [r async for r in stream]
        assert len(results) == n and results[-1].data == {"quote": {"symbol": "600000", "nested": {"value": n - 1}}}
        sizes.append(len(seen[-1]._relevant_sub_fields))
    assert sizes[0] == sizes[1]
