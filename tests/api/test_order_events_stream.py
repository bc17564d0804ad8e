"""D4 fill push: unsubscribe and resubscribe on one socket, and a slow consumer closed cleanly."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from brokerql.bus.topics import account_topic
from tests.api.conftest import wait_for
from tests.api.trading_helpers import EVENTS, place, trading_client


async def _next_event(ws, sub_id: str) -> dict:  # type: ignore[no-untyped-def]
    while True:
        message = await asyncio.wait_for(ws.receive_json(), 10)
        assert message.get("id") == sub_id, message
        if message["type"] != "next" or message["payload"]["data"]["orderEvents"]["__typename"] == "OrderEvent":
            return message


async def test_unsubscribe_then_resubscribe_on_the_same_socket(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        await client.login("gold001")
        account = await client.account_id()
        async with client.subscribe(EVENTS, {"a": account, "s": 0}) as stream:  # from before the first order
            ws = stream.ws
            await place(client, account, price="12.50", clientOrderId="a")
            first = (await _next_event(ws, "1"))["payload"]["data"]["orderEvents"]
            await ws.send_json({"id": "1", "type": "complete"})
            await place(client, account, price="12.51", clientOrderId="b")  # while unsubscribed
            await ws.send_json(
                {
                    "id": "2",
                    "type": "subscribe",
                    "payload": {"query": EVENTS, "variables": {"a": account, "s": first["seq"]}},
                }
            )
            missed = (await _next_event(ws, "2"))["payload"]["data"]["orderEvents"]
            await place(client, account, price="12.52", clientOrderId="c")
            live = (await _next_event(ws, "2"))["payload"]["data"]["orderEvents"]
        assert (first["seq"], missed["seq"], live["seq"]) == (1, 2, 3)

        async def released() -> bool:
            return account_topic(account) not in client.container.bus.hub.by_topic

        await wait_for(released)  # both subscriptions were closed with the socket


async def test_a_slow_consumer_gets_a_coded_close_then_resumes_from_the_store(backend) -> None:
    """Strawberry's path: a bus subscription per stream (the group writer's slow consumer:
    tests/unit/test_order_fanout.py)."""
    async with trading_client(backend, with_exchange=False, subscriber_buffer=2, order_broadcast=False) as client:
        await client.login("gold001")
        account = await client.account_id()
        for n in range(5):
            await place(client, account, price="12.50", clientOrderId=f"o{n}")
        stored = await client.container.trading_queries.events_after(account, 0)
        async with client.subscribe(EVENTS, {"a": account}) as stream:
            beat = (await stream.next_data())["data"]["orderEvents"]  # the stream is live and waiting
            assert beat == {"__typename": "Heartbeat", "lastSeq": 5}
            (subscription,) = client.container.bus.hub.by_topic[account_topic(account)]
            assert subscription.queue.maxsize == 2  # bounded, whatever arrives
            for event in stored:  # a burst the consumer cannot take: one upstream batch
                client.container.bus.hub.dispatch(account_topic(account), replace(event, seq=event.seq + 5))
            pushed = [5]
            closed = await stream.next()
            while closed["type"] == "next" and "errors" not in closed["payload"]:
                pushed.append(closed["payload"]["data"]["orderEvents"]["seq"])  # what got out before the overflow
                closed = await stream.next()
        errors = closed["payload"] if closed["type"] == "error" else closed["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "RATE_LIMITED" and len(pushed) < 1 + len(stored)
        assert errors[0]["extensions"]["reason"] == "SLOW_CONSUMER" and errors[0]["extensions"]["lastSeq"] == pushed[-1]
        assert account_topic(account) not in client.container.bus.hub.by_topic  # nothing left buffered
        async with client.subscribe(EVENTS, {"a": account, "s": 2}) as stream:
            resumed = [(await stream.next_data())["data"]["orderEvents"]["seq"] for _ in range(3)]
        assert resumed == [3, 4, 5]


async def test_after_seq_beyond_the_account_is_refused_naming_the_real_last_seq(backend) -> None:
    async with trading_client(backend, with_exchange=False) as client:
        await client.login("gold001")
        account = await client.account_id()
        last = await client.container.trading_queries.last_seq(account)
        async with client.subscribe(EVENTS, {"a": account, "s": 999}) as stream:
            message = await stream.next()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert errors[0]["extensions"]["field"] == "afterSeq" and errors[0]["extensions"]["lastSeq"] == last
        await place(client, account, price="12.50", clientOrderId="after-refusal")
        async with client.subscribe(EVENTS, {"a": account, "s": last}) as stream:
            replayed = (await stream.next_data())["data"]["orderEvents"]
            beat = (await stream.next_data())["data"]["orderEvents"]
        assert (replayed["seq"], replayed["kind"]) == (last + 1, "ACCEPTED")
        assert beat == {"__typename": "Heartbeat", "lastSeq": last + 1}  # the server's last seq, not an echo
