"""The broadcast path of `quotes` (subscriptions/push_channel.py) against strawberry's own path.

Which path sent a frame is told by the texts the broadcast path wrote (`written`, recorded around
`PushChannel.write`): the first event of a stream is strawberry's, later ones are the broadcast path's
unless `quote_broadcast` is off.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import Any

import pytest
from httpx_ws import aconnect_ws

from tests.api.conftest import GraphQLClient
from tests.api.written_frames import record_written_frames, written  # noqa: F401 (the fixture)

pytestmark = pytest.mark.usefixtures("record_written_frames")


L2 = 'subscription { quotes(symbols: ["600000"]) { symbol last asOf delayed depth(levels: 5) { bids { price } } } }'
HK = 'subscription { quotes(symbols: ["00700"]) { symbol asOf delayed } }'


@asynccontextmanager
async def socket(client: GraphQLClient, token: str) -> Any:
    async with aconnect_ws("http://test/graphql", client.http, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert (await asyncio.wait_for(ws.receive_json(), 5))["type"] == "connection_ack"
        yield ws


async def subscribe(ws: Any, op_id: str, query: str) -> None:
    await ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query}})


async def frame(ws: Any) -> tuple[bool, dict]:
    """(sent by the broadcast path?, the message)."""
    text = await asyncio.wait_for(ws.receive_text(), 10)
    return text in written, json.loads(text)


async def broadcast_frames(ws: Any, count: int) -> list[dict]:
    """The next `count` frames of the broadcast path (skipping strawberry's first one)."""
    found: list[dict] = []
    for _ in range(count + 50):
        broadcast, message = await frame(ws)
        if broadcast:
            found.append(message)
            if len(found) == count:
                return found
    raise AssertionError("no frames from the broadcast path")


def snapshot_of(message: dict) -> tuple[str, str]:
    quote = message["payload"]["data"]["quotes"]
    return quote["symbol"], quote["asOf"]


async def test_broadcast_frames_equal_strawberrys_for_the_same_snapshot(client: GraphQLClient) -> None:
    token = await client.login("gold001")
    async with socket(client, token) as fast:
        await subscribe(fast, "1", L2)
        first_broadcast, first = await frame(fast)
        assert not first_broadcast  # the stream's first event is strawberry's
        client.container.settings.quote_broadcast = False
        try:
            async with socket(client, token) as plain:
                await subscribe(plain, "p", L2)  # another id: its frames cannot equal the other socket's
                via_strawberry: dict[tuple[str, str], dict] = {}
                for _ in range(40):
                    broadcast, message = await frame(plain)
                    assert not broadcast
                    via_strawberry[snapshot_of(message)] = message
                for message in await broadcast_frames(fast, 20):
                    twin = via_strawberry.get(snapshot_of(message))
                    if twin is not None:
                        assert twin["id"] == "p" and message["id"] == "1"
                        assert message["payload"]["data"] == twin["payload"]["data"]
                        assert "errors" not in message["payload"] and "errors" not in twin["payload"]
                        assert message["payload"]["extensions"].keys() == twin["payload"]["extensions"].keys()
                        break
                else:
                    raise AssertionError("the two paths never sent the same snapshot")
        finally:
            client.container.settings.quote_broadcast = True
        # the subscriber's own extensions (its cost) are spliced into every broadcast frame
        assert message["id"] == "1" and message["type"] == "next"
        assert message["payload"]["extensions"] == first["payload"]["extensions"]


async def test_entitlements_apply_per_group(client: GraphQLClient) -> None:
    gold, standard = await client.login("gold001"), await client.login("std001")
    async with socket(client, gold) as g, socket(client, standard) as s:
        await subscribe(g, "1", L2)
        await subscribe(s, "1", L2)
        for message in await broadcast_frames(g, 3):
            assert message["payload"]["data"]["quotes"]["depth"] is not None
            assert "errors" not in message["payload"]
        for message in await broadcast_frames(s, 3):
            assert message["payload"]["data"]["quotes"]["depth"] is None
            (error,) = message["payload"]["errors"]
            assert error["extensions"] == {"code": "FORBIDDEN", "entitlement": "quotes.level2", "requiredTier": "GOLD"}
            assert error["path"] == ["quotes", "depth"]


async def test_a_downgraded_client_moves_group(client: GraphQLClient) -> None:
    token = await client.login("gold001")
    me = (await client.execute("{ me { id } }"))["data"]["me"]["id"]
    admin = await client.execute(
        'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }', token=""
    )
    async with socket(client, token) as ws:
        await subscribe(ws, "1", L2)
        assert "errors" not in (await broadcast_frames(ws, 1))[0]["payload"]
        forced = await client.execute(
            'mutation($c: ID!) { forceLevel(clientId: $c, tier: "STANDARD", reason: "test") { ok } }',
            {"c": me},
            token=admin["data"]["operatorLogin"]["accessToken"],
        )
        assert forced["data"]["forceLevel"]["ok"]
        before = group_keys(client, "quotes.600000")
        client.container.auth.forget_tier(me)  # this process's tier cache, as the operator's process does
        for message in await broadcast_frames(ws, 60):
            if message["payload"].get("errors"):
                assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
                assert message["payload"]["data"]["quotes"]["depth"] is None
                break
        else:
            raise AssertionError("the stream kept Level-2 depth after the downgrade")
        ((selection, variables, gold),) = before
        (after,) = group_keys(client, "quotes.600000")  # one group: the gold one closed with its last member
        assert after[:2] == (selection, variables) and after[2] != gold  # same selection, the standard set


def group_keys(client: GraphQLClient, topic: str) -> list[tuple]:
    """The keys of the groups that follow `topic` in this process (selection, variables, entitlement set)."""
    feed = client.container.quote_fanout.feeds.get(topic)
    return [] if feed is None else list(feed.groups)


async def test_a_closed_socket_leaves_its_groups(client: GraphQLClient) -> None:
    token = await client.login("gold001")
    async with socket(client, token) as stays:
        await subscribe(stays, "1", L2)
        async with socket(client, token) as leaves:
            await subscribe(leaves, "1", L2)
            await broadcast_frames(leaves, 2)
            (key,) = group_keys(client, "quotes.600000")
            assert len(client.container.quote_fanout.feeds["quotes.600000"].groups[key].members) == 2
        for _ in range(200):  # the closed socket's stream ends at once; the other one keeps its frames
            await broadcast_frames(stays, 1)
            if len(client.container.quote_fanout.feeds["quotes.600000"].groups[key].members) == 1:
                break
        else:
            raise AssertionError("the closed socket's stream stayed in its group")
    for _ in range(200):  # and the last one out closes the topic's feed
        if not group_keys(client, "quotes.600000"):
            break
        await asyncio.sleep(0)
    assert "quotes.600000" not in client.container.quote_fanout.feeds


async def test_delayed_and_real_time_views_are_separate_groups(client: GraphQLClient) -> None:
    standard, diamond = await client.login("std001"), await client.login("vip001")
    async with socket(client, standard) as s, socket(client, diamond) as d:
        await subscribe(s, "1", HK)
        await subscribe(d, "1", HK)
        assert all(m["payload"]["data"]["quotes"]["delayed"] for m in await broadcast_frames(s, 2))
        assert not any(m["payload"]["data"]["quotes"]["delayed"] for m in await broadcast_frames(d, 2))


async def test_complete_ends_only_its_own_subscription(client: GraphQLClient) -> None:
    token = await client.login("gold001")
    async with socket(client, token) as ws:
        await subscribe(ws, "a", L2)
        await subscribe(ws, "b", L2)
        seen = {"a": 0, "b": 0}
        while min(seen.values()) < 3:
            broadcast, message = await frame(ws)
            seen[message["id"]] += broadcast
        await ws.send_json({"id": "a", "type": "complete"})
        await asyncio.sleep(0)
        after = {"a": 0, "b": 0}
        while after["b"] < 20:
            _, message = await frame(ws)
            after[message["id"]] += 1
        assert after["a"] <= 1  # at most a frame already on its way when the complete arrived


async def test_an_error_ends_the_stream_with_error_then_complete(client: GraphQLClient) -> None:
    token = await client.login("gold001")
    principal = client.container.access_tokens.verify(token, now=client.container.clock.now())
    level1 = 'subscription { quotes(symbols: ["600000", "510300"]) { symbol last asOf } }'
    async with socket(client, token) as ws:
        await subscribe(ws, "1", level1)
        await broadcast_frames(ws, 2)
        client.container.identity.sessions.note_revoked([principal.session_id], client.container.clock.now())
        last_next = None
        while True:  # the stream re-checks its session at its next heartbeat
            _, message = await frame(ws)
            if message["type"] != "next":
                break
            last_next = message
        assert message == {"id": "1", "type": "complete"}
        assert last_next is not None and last_next["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_field_error_of_one_subscriber_is_not_shared(client: GraphQLClient) -> None:
    """Level-2 fields check the caller at execution: a revoked session's UNAUTHENTICATED there is its own."""
    revoked, other = await client.login("gold001"), await client.login("gold001")
    principal = client.container.access_tokens.verify(revoked, now=client.container.clock.now())
    async with socket(client, revoked) as r, socket(client, other) as o:
        await subscribe(r, "1", L2)
        await subscribe(o, "1", L2)
        await broadcast_frames(r, 1)
        await broadcast_frames(o, 1)
        client.container.identity.sessions.note_revoked([principal.session_id], client.container.clock.now())
        for message in await broadcast_frames(o, 30):
            assert "errors" not in message["payload"], message
