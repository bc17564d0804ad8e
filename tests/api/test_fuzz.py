"""Fuzzing the ASGI app with hypothesis-graphql: every root field, valid and invalid documents, and
placeOrder with random Decimals and DateTimes. Bounded in count; the number tried is printed.
Not one answer may be INTERNAL or a 5xx."""

from __future__ import annotations

import asyncio
import string
from collections.abc import Callable
from typing import Any

import pytest
from graphql import build_schema as parse_sdl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from brokerql.schema import build_schema
from tests.api.conftest import GraphQLClient

SDL = build_schema().as_str()
SCHEMA = parse_sdl(SDL)
DECIMALS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["NaN", "sNaN", "-Infinity", "1e400", "1" * 30, "13.555", "0.01", "-5", "9" * 5000]),
    st.text(alphabet=string.digits + ".-+eE", max_size=40),
)
DATETIMES = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.text(alphabet=string.digits + "-:T+Z. ", max_size=32),
)
SCALARS = {
    "Decimal": st.one_of(DECIMALS.map(nodes.String), st.integers().map(nodes.Int)),
    "DateTime": DATETIMES.map(nodes.String),
    # An Upload written inline in a document (not sent as a multipart file) must be a coded error too.
    "Upload": st.text(max_size=20).map(nodes.String),
}
PLAN = [  # (mode, root fields or None for all, examples): 1,400 operations
    (Mode.POSITIVE, None, 350),
    (Mode.NEGATIVE, None, 350),
    (Mode.POSITIVE, ["placeOrder", "account", "tradingDesk"], 250),
    (Mode.NEGATIVE, ["placeOrder"], 250),
    (Mode.POSITIVE, ["previewOrder", "createBasket", "submitBasket", "placePairedOrder", "baskets"], 200),
]


def problems(status: int, body: Any) -> list[str]:
    found = [f"HTTP {status}"] if status >= 500 else []
    errors = body.get("errors", []) if isinstance(body, dict) else []
    found += [e["message"] for e in errors if (e.get("extensions") or {}).get("code") in (None, "INTERNAL")]
    return found


async def test_fuzzed_operations_never_reach_internal(backend: Any, client: GraphQLClient) -> None:
    if backend.name != "sqlite-memory":  # input handling is the same on both; the time budget is spent once
        pytest.skip("fuzzed on the sqlite-memory backend only")
    token = await client.login("gold001")
    loop = asyncio.get_running_loop()
    tried: list[str] = []
    bad: list[tuple[str, list[str]]] = []

    async def send(query: str) -> None:
        response = await client.http.post(
            "/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"}
        )
        found = problems(response.status_code, response.json())
        tried.append(query)
        if found:
            bad.append((query, found))

    def run(mode: Mode, fields: list[str] | None, examples: int) -> Callable[[], None]:
        strategy = st.one_of(
            from_schema(SCHEMA, fields=fields, custom_scalars=SCALARS, mode=mode, allow_x00=False),
            from_schema(SCHEMA, fields=fields, custom_scalars=SCALARS, mode=mode, allow_null=False),
        )

        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(strategy)
        def fuzz(query: str) -> None:
            asyncio.run_coroutine_threadsafe(send(query), loop).result(30)

        return fuzz

    for mode, fields, examples in PLAN:
        await asyncio.to_thread(run(mode, fields, examples))
    print(f"fuzzed {len(tried)} operations: {len(bad)} INTERNAL or 5xx")
    assert len(tried) >= 1200
    assert bad == []
