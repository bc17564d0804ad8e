"""Parked orders (C5) across two real `brokerql serve` processes on PostgreSQL + Redis, with the live
simulated market: both processes evaluate every quote, and the parked order that the market crosses is
placed exactly once."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from decimal import Decimal

import asyncpg
import httpx
import pytest
from httpx_ws import aconnect_ws

from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from tests.conftest import PG_ADMIN_DSN, PG_UP, REDIS_UP, REDIS_URL
from tests.e2e.test_served import account_of
from tests.e2e.test_two_processes import pg_database  # noqa: F401 - the fixture

# pg_database is asked for first, so it is dropped after the processes stopped (fixtures end in reverse).
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not (PG_UP and REDIS_UP), reason="needs PostgreSQL and Redis")]

SYMBOL = "600000"
TICK = DEMO_INSTRUMENTS[SYMBOL].tick_size
PARK = """mutation($i: ParkOrderInput!) { parkOrder(input: $i) { parkedOrder { id status } errors { code } } }"""
LIST = """query($a: ID!) { parkedOrders(accountId: $a) { id status placedOrderId failureCode } }"""
CANCEL = """mutation($id: ID!) { cancelParkedOrder(id: $id) { parkedOrder { status } errors { code } } }"""


def park_around_the_last_price(served, token: str, account: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A buy above and a buy below the last price, one tick away each: the random walk crosses one soon.
    Parked again when the price moved between reading it and parking (TRIGGER_ALREADY_MET)."""
    for _attempt in range(20):
        last = Decimal(served.gql(f'{{ quote(symbol: "{SYMBOL}") {{ last }} }}', token=token)["data"]["quote"]["last"])
        parked = {}
        for name, trigger in (("above", {"priceAbove": str(last + TICK)}), ("below", {"priceBelow": str(last - TICK)})):
            order = {"accountId": account, "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "price": str(last),
                     "quantity": 100}  # fmt: skip
            result = served.gql(PARK, {"i": {"order": order, "trigger": trigger}}, token)["data"]["parkOrder"]
            if result["errors"]:
                assert [e["code"] for e in result["errors"]] == ["TRIGGER_ALREADY_MET"], result
                break
            parked[name] = result["parkedOrder"]["id"]
        if len(parked) == 2:
            return parked
        for parked_id in parked.values():
            served.gql(CANCEL, {"id": parked_id}, token)
    raise AssertionError("the price moved on every attempt to park around it")


def test_a_parked_order_fires_once_with_two_serving_processes(pg_database, served_factory) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    shared = {
        "BROKERQL_DATABASE_URL": pg_database,
        "BROKERQL_REDIS_URL": REDIS_URL,
        "BROKERQL_REDIS_PREFIX": f"bqe2e:{secrets.token_hex(4)}",
        "BROKERQL_MARKET_TICK_SECONDS": "0.1",
    }
    first = served_factory("first", **shared).start()  # runs the exchange (the simulated market)
    second = served_factory("second", BROKERQL_EMBEDDED_EXCHANGE="0", **shared).start()
    token = first.login("silver001")
    account = account_of(first, token)
    parked = park_around_the_last_price(second, token, account)

    deadline = time.monotonic() + 90
    fired: list[dict] = []
    while not fired:
        listed = first.gql(LIST, {"a": account}, token)["data"]["parkedOrders"]
        fired = [p for p in listed if p["id"] in parked.values() and p["status"] != "PARKED"]
        assert time.monotonic() < deadline, "the market did not cross either level"
        time.sleep(0.2)
    assert fired[0]["status"] == "TRIGGERED", fired
    other = next(i for i in parked.values() if i != fired[0]["id"])
    cancel = second.gql(CANCEL, {"id": other}, token)["data"]["cancelParkedOrder"]  # may have fired meanwhile
    assert cancel["errors"] == [] or cancel["errors"][0]["code"] == "PARKED_ORDER_ALREADY_TRIGGERED"
    late = first.gql(CANCEL, {"id": fired[0]["id"]}, token)["data"]["cancelParkedOrder"]
    assert [e["code"] for e in late["errors"]] == ["PARKED_ORDER_ALREADY_TRIGGERED"]

    orders, triggered = asyncio.run(_stored(pg_database, account, fired[0]["id"]))
    assert orders == 1  # one order, though both processes saw the crossing quote
    assert triggered == 1  # and one PARKED_TRIGGERED event

    # What the client sees on its stream (from the process without the exchange): the whole story, gapless.
    last_seq = first.gql("query($a: ID!) { account(id: $a) { lastSeq } }", {"a": account}, token)["data"]["account"]
    events = asyncio.run(_replay(second.url, token, account, last_seq["lastSeq"]))
    assert [e["seq"] for e in events] == list(range(1, last_seq["lastSeq"] + 1))
    story = [(e["kind"], (e["parkedOrder"] or {}).get("id")) for e in events if e["kind"].startswith("PARKED")]
    assert ("PARKED", parked["above"]) in story and ("PARKED", parked["below"]) in story
    assert story.count(("PARKED_TRIGGERED", fired[0]["id"])) == 1
    seq_of = {(e["kind"], (e["parkedOrder"] or e["order"] or {}).get("id")): e["seq"] for e in events}
    assert seq_of[("ACCEPTED", fired[0]["placedOrderId"])] < seq_of[("PARKED_TRIGGERED", fired[0]["id"])]


async def _stored(database_url: str, account: str, parked_id: str) -> tuple[int, int]:
    dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + database_url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(dsn)
    try:
        orders = await connection.fetchval(
            "SELECT count(*) FROM orders WHERE account_id = $1 AND client_order_id = $2", account, f"parked:{parked_id}"
        )
        payloads = await connection.fetch(
            "SELECT payload FROM account_event WHERE account_id = $1 AND kind = 'PARKED_TRIGGERED'", account
        )
    finally:
        await connection.close()
    triggered = sum(json.loads(p["payload"])["data"]["parked"]["id"] == parked_id for p in payloads)
    return orders, triggered


STREAM = """subscription($a: ID!) { orderEvents(accountId: $a, afterSeq: 0) { __typename
  ... on OrderEvent { seq kind code order { id status } parkedOrder { id status placedOrderId } } } }"""


async def _replay(url: str, token: str, account: str, until_seq: int) -> list[dict]:
    events: list[dict] = []
    async with (
        httpx.AsyncClient() as http,
        aconnect_ws(url.replace("http", "ws"), http, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": STREAM, "variables": {"a": account}}})
        while not events or events[-1]["seq"] < until_seq:
            message = await asyncio.wait_for(ws.receive_json(), 20)
            assert message["type"] == "next", message
            item = message["payload"]["data"]["orderEvents"]
            if item["__typename"] == "OrderEvent":
                events.append(item)
    return events
