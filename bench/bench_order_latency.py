"""Latency of order entry and fill push as a client sees them, against bare baselines in the same run.

One logged-in client of the in-process app (ASGI over HTTP and WebSocket, embedded exchange, outbox
relay, in-memory bus or Redis) sends N marketable orders one after another, each a `placeOrder` POST,
while an `orderEvents` subscription is open:

- placeOrder: from sending the POST to its acknowledgement (after the commit);
- fill push: from sending the POST to the first FILL event of that order on the WebSocket (commit,
  relay, bus, exchange matching, booking transaction, relay, bus, subscription).

Baselines in the same run: the same client POSTing a trivial authenticated query (`{ me { id } }`), and
one bare one-row commit on the same database.

    .venv/bin/python bench/bench_order_latency.py [--url postgresql+asyncpg://.../db] [--redis URL] [-n 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from brokerql.api.app import create_app
from brokerql.container import Container
from brokerql.services.seed import seed_demo
from brokerql.settings import load_settings
from brokerql.store.columns import new_id, utcnow
from brokerql.store.migrate import upgrade_async
from brokerql.store.tables import OrderRow

PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } errors { code } } }"""
EVENTS = """subscription($a: ID!) { orderEvents(accountId: $a) {
  __typename ... on OrderEvent { seq kind order { id } } } }"""


def summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{name:<28} p50 {statistics.median(ms):6.2f} ms   p99 {p99:6.2f} ms   (n={len(ms)})"


async def post(http: httpx.AsyncClient, token: str | None, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response.json()


async def run(http: httpx.AsyncClient, container: Container, n: int) -> None:
    login = await post(
        http,
        None,
        'mutation { login(input: {username: "gold001", password: "Demo#2026"}) { accessToken } }',
        {},
    )
    token = login["data"]["login"]["accessToken"]
    me = await post(http, token, "{ me { id accounts { id type } } }", {})
    account = next(a["id"] for a in me["data"]["me"]["accounts"] if a["type"] == "CASH")
    order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "MARKET", "quantity": 100}
    place, push, trivial, bare = [], [], [], []
    async with aconnect_ws("http://t/graphql", http, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert (await ws.receive_json())["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"a": account}}})
        for i in range(n + 10):  # the first 10 warm up
            started = time.perf_counter()
            result = await post(http, token, PLACE, {"i": order})
            acked = time.perf_counter()
            assert (result.get("data") or {}).get("placeOrder", {}).get("order"), result
            order_id = result["data"]["placeOrder"]["order"]["id"]
            while True:
                event = (await asyncio.wait_for(ws.receive_json(), 10))["payload"]["data"]["orderEvents"]
                if event.get("kind") == "FILL" and event["order"]["id"] == order_id:
                    break
            filled = time.perf_counter()
            # let the rest of this order's events arrive before the next one starts
            await asyncio.sleep(0.02)
            while True:
                try:
                    await asyncio.wait_for(ws.receive_json(), 0.001)
                except TimeoutError:
                    break
            t0 = time.perf_counter()
            await post(http, token, "{ me { id } }", {})
            t1 = time.perf_counter()
            async with container.db.transaction() as uow:
                now = utcnow()
                uow.session.add(
                    OrderRow(id=new_id("ord"), account_id=account, symbol="600000", side="BUY", type="LIMIT",
                             quantity=100, status="REJECTED", created_at=now, updated_at=now)
                )  # fmt: skip
            t2 = time.perf_counter()
            if i >= 10:
                place.append(acked - started)
                push.append(filled - started)
                trivial.append(t1 - t0)
                bare.append(t2 - t1)
    print(summary("placeOrder (HTTP)", place))
    print(summary("order -> FILL push (WS)", push))
    print(summary("baseline { me { id } } (HTTP)", trivial))
    print(summary("baseline one-row commit", bare))


async def main(url: str | None, redis: str | None, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'latency.db'}"
        settings = load_settings(
            database_url=url,
            redis_url=redis,
            redis_prefix=f"bench-latency-{os.getpid()}",
            secret_key="bench-secret-0123456789-abcdefghijklmnopq",
            demo=True,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            market_warmup_steps=10,
            rate_limit_scale=1000,  # the tier's requests-per-minute limit would stop the run
        )
        await upgrade_async(url)
        container = Container.build(settings)
        await seed_demo(container.db, container.passwords)
        app = create_app(settings, container)
        transport = ASGIWebSocketTransport(app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
        ):
            print(f"{url.split(':', 1)[0]}{' + redis' if redis else ''}:")
            await run(http, container, n)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a fresh database (default: a temporary SQLite file)")
    parser.add_argument("--redis", default=None)
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.redis, args.n))
