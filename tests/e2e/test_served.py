"""`brokerql serve` as a real process: the GraphiQL tour path, and crash safety of acknowledged orders."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from httpx_ws import aconnect_ws

pytestmark = pytest.mark.e2e

PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } errors { code } } }"""
ORDERS_EVENTS = """subscription($a: ID!, $s: Int) { orderEvents(accountId: $a, afterSeq: $s) {
  __typename ... on OrderEvent { seq kind order { id status } } ... on Heartbeat { lastSeq } } }"""


def account_of(served, token: str) -> str:  # type: ignore[no-untyped-def]
    me = served.gql("{ me { accounts { id type } } }", token=token)
    return next(a["id"] for a in me["data"]["me"]["accounts"] if a["type"] == "CASH")


async def collect_events(
    url: str, token: str, account: str, after: int, until_seq: int, ready: asyncio.Event | None = None
) -> list[dict]:
    """Subscribe over a real WebSocket and read order events until `until_seq` arrived.

    `ready` is set when the first message (a heartbeat, on a quiet account) proves the stream is live.
    """
    events: list[dict] = []
    async with (
        httpx.AsyncClient() as http,
        aconnect_ws(url.replace("http", "ws"), http, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": ORDERS_EVENTS, "variables": {"a": account, "s": after}},
            }
        )
        while not events or events[-1]["seq"] < until_seq:
            message = await asyncio.wait_for(ws.receive_json(), 20)
            assert message["type"] == "next", message
            if ready is not None:
                ready.set()
            item = message["payload"]["data"]["orderEvents"]
            if item["__typename"] == "OrderEvent":
                events.append(item)
    return events


def test_tour_in_a_served_process(served_factory) -> None:  # type: ignore[no-untyped-def]
    served = served_factory().start()
    assert httpx.get(served.url, headers={"accept": "text/html"}).text.lower().count("graphiql") > 0
    token = served.login("gold001")
    account = account_of(served, token)
    quote = served.gql('{ quote(symbol: "600000") { last bid ask } }', token=token)
    assert quote["data"]["quote"]["ask"] is not None
    order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "MARKET", "quantity": 500}
    placed = served.gql(PLACE, {"i": order}, token)
    assert placed["data"]["placeOrder"]["errors"] == []
    events = asyncio.run(collect_events(served.url, token, account, 0, 2))
    assert [(e["seq"], e["kind"]) for e in events[:2]] == [(1, "ACCEPTED"), (2, "FILL")]
    metrics = httpx.get(served.url.replace("/graphql", "/metrics")).text
    assert "brokerql_graphql_operations_total" in metrics


def test_killed_right_after_acknowledge_loses_nothing(served_factory) -> None:  # type: ignore[no-untyped-def]
    served = served_factory()
    served.start()
    token = served.login("gold001")
    account = account_of(served, token)
    # A resting buy far below the market: acknowledged, then the process dies at once (SIGKILL).
    order = {
        "accountId": account,
        "symbol": "600000",
        "side": "BUY",
        "type": "LIMIT",
        "price": "12.20",
        "quantity": 100,
        "clientOrderId": "crash-1",
    }
    placed = served.gql(PLACE, {"i": order}, token)
    order_id = placed["data"]["placeOrder"]["order"]["id"]
    served.kill()
    served.start()
    token = served.login("gold001")
    again = served.gql(PLACE, {"i": order}, token)  # idempotent: the same order comes back
    assert again["data"]["placeOrder"]["order"]["id"] == order_id
    assert again["data"]["placeOrder"]["order"]["status"] == "NEW"
    events = asyncio.run(collect_events(served.url, token, account, 0, 1))
    assert events[0] == {
        "__typename": "OrderEvent",
        "seq": 1,
        "kind": "ACCEPTED",
        "order": {"id": order_id, "status": events[0]["order"]["status"]},
    }
    # The restarted exchange put the order back on its book: cancelling it is confirmed by the exchange.
    cancel = served.gql(
        "mutation($a: ID!) { cancelOrders(input: {accountId: $a, scope: ALL}) { canceled { id } errors { code } } }",
        {"a": account},
        token,
    )
    assert [o["id"] for o in cancel["data"]["cancelOrders"]["canceled"]] == [order_id]
    events = asyncio.run(collect_events(served.url, token, account, 1, 3))
    assert [e["kind"] for e in events] == ["CANCEL_REQUESTED", "CANCELED"]
    assert json.dumps(events).count(order_id) == 2
