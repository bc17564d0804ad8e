"""The thin path through every layer: login, me, quote, placeOrder, orderEvents with ACCEPTED then FILL."""

from __future__ import annotations

from tests.api.conftest import GraphQLClient

EVENTS = """subscription($a: ID!, $s: Int) { orderEvents(accountId: $a, afterSeq: $s) {
  __typename
  ... on OrderEvent { seq kind order { id status filledQuantity } fill { price quantity } }
  ... on Heartbeat { lastSeq serverTime } } }"""
PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  order { id status clientOrderId filledQuantity } errors { code message field } } }"""


async def test_login_me_quote(client: GraphQLClient) -> None:
    await client.login("gold001")
    me = await client.execute("{ me { name tier { code entitlements } accounts { type cash { available } } } }")
    assert me["data"]["me"]["tier"]["code"] == "GOLD"
    assert {a["type"] for a in me["data"]["me"]["accounts"]} == {"CASH", "MARGIN"}
    quote = await client.execute('{ quote(symbol: "600000") { symbol last bid ask delayed depth { bids { price } } } }')
    assert "errors" not in quote, quote
    assert quote["data"]["quote"]["symbol"] == "600000"
    assert quote["data"]["quote"]["depth"]["bids"]


async def test_marketable_order_pushes_accepted_then_fill(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    # afterSeq 0: the stream starts before the order whenever the server opens it (without afterSeq it
    # starts at the account's last event when it opens, which may already be this order's ACCEPTED).
    async with client.subscribe(EVENTS, {"a": account, "s": 0}) as stream:
        placed = await client.execute(
            PLACE, {"i": {"accountId": account, "symbol": "600000", "side": "BUY", "type": "MARKET", "quantity": 1000}}
        )
        assert placed["data"]["placeOrder"]["errors"] == []
        events: list[dict] = []
        while not events or events[-1]["order"]["status"] != "FILLED":
            payload = (await stream.next_data())["data"]["orderEvents"]
            if payload["__typename"] == "OrderEvent":
                events.append(payload)
    # A market order may sweep more than one price level: one FILL per level, seq with no gaps.
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["kind"] for e in events] == ["ACCEPTED"] + ["FILL"] * (len(events) - 1)
    assert sum(e["fill"]["quantity"] for e in events[1:]) == 1000


async def test_resume_after_seq_replays_then_heartbeats(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    for n in range(2):
        order = {
            "accountId": account,
            "symbol": "600000",
            "side": "BUY",
            "type": "LIMIT",
            "price": "13.00",
            "quantity": 100,
            "clientOrderId": f"resume-{n}",
        }
        assert (await client.execute(PLACE, {"i": order}))["data"]["placeOrder"]["errors"] == []
    async with client.subscribe(EVENTS, {"a": account, "s": 0}) as stream:
        first = (await stream.next_data())["data"]["orderEvents"]
        second = (await stream.next_data())["data"]["orderEvents"]
        beat = (await stream.next_data())["data"]["orderEvents"]
    assert (first["seq"], second["seq"]) == (1, 2)
    assert beat == {"__typename": "Heartbeat", "lastSeq": 2, "serverTime": beat["serverTime"]}
