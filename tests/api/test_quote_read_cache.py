"""Market reads answered per snapshot (schema/read_cache.py): a kept answer is always the one execution
would give now; entitlements, a new snapshot, clock-dependent fields and errors each take it past.

On both buses answers are kept (Redis: in the process's mirror of the quote topics); the answers must
be what execution gives either way."""

from __future__ import annotations

import asyncio

from graphql import parse

from brokerql.exchange.engine import quote_topic
from brokerql.monitor import prometheus
from brokerql.schema import build_schema
from brokerql.schema.read_cache import keepable
from tests.api.conftest import GraphQLClient

QUOTE = "query Q($s: String!) { quote(symbol: $s) { symbol last volume delayed asOf depth { bids { price } } } }"
LEVEL1 = "query Q($s: String!) { quote(symbol: $s) { symbol last volume delayed asOf } }"
PROMOTE = 'mutation($c: ID!, $t: String!) { forceLevel(clientId: $c, tier: $t, reason: "test") { ok } }'


def hits() -> float:
    return prometheus.READ_CACHE.labels("hit")._value.get()


async def settled(client: GraphQLClient, query: str, symbol: str = "600000") -> tuple[dict, dict | None]:
    """An answer during which no snapshot of `symbol` was published (the simulator keeps trading), and the
    snapshot it must show. Retries the rare answer that a publish overtook."""
    topic, market = quote_topic(symbol), client.container.market
    for _ in range(50):
        before = market.peek(topic)
        answer = await client.execute(query, {"s": symbol})
        if market.peek(topic) is before:
            return answer, before
    raise AssertionError("the quote moved during every one of 50 answers")


async def test_a_kept_answer_is_what_execution_gives_for_the_same_snapshot(client: GraphQLClient) -> None:
    await client.login("gold001")
    await client.execute(QUOTE, {"s": "600000"})  # kept, if nothing moves meanwhile
    for _ in range(20):
        before = hits()
        answer, snapshot = await settled(client, QUOTE)
        assert "errors" not in answer, answer
        quote = answer["data"]["quote"]
        if snapshot is not None:
            assert (quote["volume"], quote["asOf"][:19]) == (snapshot["volume"], snapshot["asOf"][:19])
        if hits() > before:
            break
    assert hits() > before
    assert answer["extensions"]["cost"]["throttleStatus"]  # the request's own charge, kept answer or not


async def test_a_new_snapshot_is_answered_at_once(client: GraphQLClient) -> None:
    await client.login("gold001")
    topic = quote_topic("600000")
    await settled(client, QUOTE)
    market = client.container.market
    for _ in range(20):
        marked = {**(await client.container.bus.latest(topic) or {}), "volume": 987_654_321}
        await client.container.bus.publish(topic, marked, retain=True)
        for _ in range(100):  # Redis: the mirror hears of it by pub/sub
            if market.peek(topic) is not None and market.peek(topic)["volume"] == 987_654_321:
                break
            await asyncio.sleep(0.01)
        answer = await client.execute(QUOTE, {"s": "600000"})
        if (market.peek(topic) or {}).get("volume") == 987_654_321:  # the simulator did not publish meanwhile
            assert answer["data"]["quote"]["volume"] == 987_654_321
            return
    raise AssertionError("the simulator published during every attempt")


async def test_each_entitlement_set_gets_its_own_answer(client: GraphQLClient) -> None:
    gold = await client.login("gold001")
    me = (await client.execute("{ me { id } }"))["data"]["me"]["id"]
    assert (await settled(client, QUOTE))[0]["data"]["quote"]["depth"] is not None  # GOLD has Level-2
    await client.login("std001")
    standard = (await settled(client, QUOTE))[0]
    assert standard["data"]["quote"]["depth"] is None
    assert standard["errors"][0]["extensions"]["entitlement"] == "quotes.level2"
    assert (await settled(client, QUOTE, "00700"))[0]["data"]["quote"]["delayed"] is True  # HK: delayed
    admin = await client.execute(
        'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }', token=""
    )
    forced = await client.execute(
        PROMOTE, {"c": me, "t": "STANDARD"}, token=admin["data"]["operatorLogin"]["accessToken"]
    )
    assert forced["data"]["forceLevel"]["ok"]
    client.container.auth.forget_tier(me)  # this process's tier cache, as the operator's process does
    client.token = gold
    downgraded = (await settled(client, QUOTE))[0]
    assert downgraded["data"]["quote"]["depth"] is None, downgraded


async def test_clock_fields_and_errors_are_never_kept(client: GraphQLClient) -> None:
    await client.login("gold001")
    aged = "query Q($s: String!) { quote(symbol: $s) { symbol ...Age } } fragment Age on Quote { ageSeconds }"
    before = hits()
    for _ in range(3):
        assert "errors" not in await client.execute(aged, {"s": "600000"})
        unknown = await client.execute(LEVEL1, {"s": "NOPE99"})
        assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert hits() == before
    client.token = None
    anonymous = await client.execute(LEVEL1, {"s": "600000"})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_which_documents_are_kept() -> None:
    schema = build_schema()._schema
    kept = [
        LEVEL1,
        '{ __typename a: quote(symbol: "600000") { last } b: quote(symbol: "00700") { depth { bids { price } } } }',
        'query { quote(symbol: "600000") { ...L } } fragment L on Quote { bid ask trades(first: 3) { price } }',
    ]
    never = [
        '{ quote(symbol: "600000") { last } me { id } }',  # another root field: not a market read
        '{ quote(symbol: "600000") { last stale } }',  # the venue's liveness now
        'query { quote(symbol: "600000") { ...A } } fragment A on Quote { ageSeconds }',  # the clock
        "mutation { logout { ok } }",
        'subscription { quotes(symbols: ["600000"]) { last } }',
    ]
    assert [keepable(schema, parse(q)) for q in kept] == [True] * len(kept)
    assert [keepable(schema, parse(q)) for q in never] == [False] * len(never)
