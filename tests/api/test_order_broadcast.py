"""orderEvents over the group writer (subscriptions/order_fanout.py) against strawberry's own path.

Which path sent a frame is told by the texts the writer wrote (`written`, recorded around
`PushChannel.write`): a stream's first item is strawberry's, later ones are the writer's unless
`order_broadcast` is off.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
import pytest

from brokerql.bus.topics import account_topic
from brokerql.services import order_stream
from tests.api.conftest import GraphQLClient, wait_for
from tests.api.test_quote_broadcast import socket
from tests.api.trading_helpers import EVENTS, place, trading_client
from tests.api.written_frames import record_written_frames, written  # noqa: F401 (the fixture)

SEQ_KIND = """subscription($a: ID!) { orderEvents(accountId: $a) {
  __typename ... on OrderEvent { seq kind } ... on Heartbeat { lastSeq } } }"""

pytestmark = pytest.mark.usefixtures("record_written_frames")


async def subscribe(ws: Any, op_id: str, account: str, query: str = EVENTS, after: int | None = None) -> None:
    variables = {"a": account} if after is None else {"a": account, "s": after}
    await ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})


async def frame(ws: Any) -> tuple[bool, str, dict]:
    """(written by the group writer?, the text, the message)."""
    text = await asyncio.wait_for(ws.receive_text(), 10)
    return text in written, text, json.loads(text)


async def events(ws: Any, until_seq: int, op_id: str = "1") -> list[tuple[bool, str, dict]]:
    """The order event frames of `op_id` (heartbeats skipped) up to seq `until_seq`."""
    found: list[tuple[bool, str, dict]] = []
    while not found or found[-1][2]["payload"]["data"]["orderEvents"]["seq"] < until_seq:
        by_writer, text, message = await frame(ws)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        if message["id"] == op_id and message["payload"]["data"]["orderEvents"]["__typename"] == "OrderEvent":
            found.append((by_writer, text, message))
    return found


def seqs(found: list[tuple[bool, str, dict]]) -> list[int]:
    return [message["payload"]["data"]["orderEvents"]["seq"] for _, _, message in found]


async def orders(client: GraphQLClient, account: str, count: int, tag: str) -> None:
    for n in range(count):
        await place(client, account, price="12.50", clientOrderId=f"{tag}{n}")


def member_count(client: GraphQLClient, account: str, *, waiting: bool = False) -> int:
    """The account's streams on the shared path (`waiting`: those not on it yet, too)."""
    feed = client.container.order_fanout.feeds.get(account)
    if feed is None:
        return 0
    return sum(len(group.members) for group in feed.groups.values()) + (len(feed.others) if waiting else 0)


async def test_frames_equal_strawberrys_for_the_same_events(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        token = await client.login("gold001")
        account = await client.account_id()
        async with socket(client, token) as grouped:
            await subscribe(grouped, "1", account)
            first = (await frame(grouped))[2]  # strawberry's (a heartbeat): the writer learns from it
            client.container.settings.order_broadcast = False
            try:
                async with socket(client, token) as plain:
                    await subscribe(plain, "p", account)
                    await frame(plain)  # it runs: its path was chosen with the setting off
                    client.container.settings.order_broadcast = True
                    await orders(client, account, 3, "same")
                    via_writer, via_strawberry = await events(grouped, 3), await events(plain, 3, "p")
            finally:
                client.container.settings.order_broadcast = True
        assert seqs(via_writer) == seqs(via_strawberry) == [1, 2, 3]
        assert all(by_writer for by_writer, _, _ in via_writer) and not any(w for w, _, _ in via_strawberry)
        extensions = first["payload"].get("extensions")
        for (_, text, _), (_, _, twin) in zip(via_writer, via_strawberry, strict=True):
            payload = {"data": twin["payload"]["data"], **({"extensions": extensions} if extensions else {})}
            # the same bytes as strawberry's JSON, written compactly, with this subscriber's id and extensions
            assert text == msgspec.json.encode({"id": "1", "type": "next", "payload": payload}).decode()


async def test_a_replay_that_overlaps_live_events_is_gapless(backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(order_stream, "REPLAY_PAGE", 2)  # a replay of several reads
    async with trading_client(backend, with_exchange=False) as client:
        token = await client.login("gold001")
        account = await client.account_id()
        await orders(client, account, 4, "before")
        async with socket(client, token) as live, socket(client, token) as replaying:
            await subscribe(live, "1", account)
            await frame(live)
            await subscribe(replaying, "1", account, after=0)
            placing = asyncio.create_task(orders(client, account, 4, "during"))
            replayed, followed = await events(replaying, 8), await events(live, 8)
            await placing
            await wait_for(lambda: _true(member_count(client, account) == 2))  # it rejoined the shared path
        assert seqs(replayed) == list(range(1, 9)) and seqs(followed) == list(range(5, 9))


async def test_a_gap_and_a_resync_are_filled_from_the_store(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        token = await client.login("gold001")
        account = await client.account_id()
        async with socket(client, token) as ws:
            await subscribe(ws, "1", account)
            await frame(ws)
            await orders(client, account, 1, "a")
            await events(ws, 1)
            (subscription,) = client.container.bus.hub.by_topic[account_topic(account)]  # the feed's only
            deliver, dropped, lost = subscription.deliver, asyncio.Event(), {2, 4}

            def lossy(topic: str, message: Any) -> None:
                if message.seq in lost:  # what the bus lost
                    dropped.set()
                    return
                deliver(topic, message)

            subscription.deliver = lossy  # type: ignore[method-assign]
            await orders(client, account, 2, "b")  # 2 lost, 3 arrives: a gap
            gap = await events(ws, 3)
            dropped.clear()
            await orders(client, account, 1, "c")  # 4 lost, then the link is reported lost
            await dropped.wait()
            client.container.bus.hub.resync(account_topic(account))
            resynced = await events(ws, 4)
        assert seqs(gap) == [2, 3] and seqs(resynced) == [4]
        assert all(by_writer for by_writer, _, _ in gap + resynced)  # the feed filled them, for every member


async def test_heartbeats_then_a_revoked_session_ends_the_stream_at_its_heartbeat(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        token = await client.login("gold001")
        account = await client.account_id()
        principal = client.container.access_tokens.verify(token, now=client.container.clock.now())
        async with socket(client, token) as ws:
            await subscribe(ws, "1", account)
            await frame(ws)
            await orders(client, account, 1, "a")
            await events(ws, 1)
            while True:
                by_writer, _, message = await frame(ws)
                if message["payload"]["data"]["orderEvents"]["__typename"] == "Heartbeat":
                    break
            assert by_writer and message["payload"]["data"]["orderEvents"] == {"__typename": "Heartbeat", "lastSeq": 1}
            client.container.identity.sessions.note_revoked([principal.session_id], client.container.clock.now())
            while message["type"] == "next" and "errors" not in message["payload"]:
                _, _, message = await frame(ws)
            assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert (await frame(ws))[2] == {"id": "1", "type": "complete"}
        await wait_for(lambda: _true(account not in client.container.order_fanout.feeds))


async def _true(value: bool) -> bool:
    return value


async def test_complete_ends_only_its_own_subscription(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        token = await client.login("gold001")
        account = await client.account_id()
        async with socket(client, token) as ws:
            await subscribe(ws, "a", account)
            await subscribe(ws, "b", account)
            await wait_for(lambda: _true(member_count(client, account, waiting=True) == 2))
            await orders(client, account, 1, "one")
            await wait_for(lambda: _true(member_count(client, account) == 2))  # both on the shared path
            await ws.send_json({"id": "a", "type": "complete"})
            await wait_for(lambda: _true(member_count(client, account) == 1))
            await orders(client, account, 2, "two")
            seen: dict[str, list[int]] = {"a": [], "b": []}
            while 3 not in seen["b"]:
                _, _, message = await frame(ws)
                item = message["payload"]["data"]["orderEvents"] if message["type"] == "next" else {}
                if item.get("__typename") == "OrderEvent":
                    seen[message["id"]].append(item["seq"])
        assert seen["a"] in ([], [1]) and seen["b"] in ([2, 3], [1, 2, 3])  # 1 may have been on its way


async def test_two_sockets_of_one_account_with_different_selections(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        token = await client.login("gold001")
        account = await client.account_id()
        async with socket(client, token) as full, socket(client, token) as small:
            await subscribe(full, "1", account)
            await subscribe(small, "1", account, SEQ_KIND)
            await frame(full)
            await frame(small)
            await orders(client, account, 2, "x")
            wide, narrow = await events(full, 2), await events(small, 2)
            assert len(client.container.order_fanout.feeds[account].groups) == 2  # one per selection
        assert seqs(wide) == seqs(narrow) == [1, 2] and wide[-1][0] and narrow[-1][0]
        assert narrow[-1][2]["payload"]["data"]["orderEvents"] == {
            "__typename": "OrderEvent",
            "seq": 2,
            "kind": "ACCEPTED",
        }
        assert wide[-1][2]["payload"]["data"]["orderEvents"]["order"]["status"] is not None
