"""A load for watching the monitor: clients streaming quotes and trading, with monitorStats printed
every few seconds. Point it at a running deployment (docs/operations.md, "Scaled"):

    .venv/bin/python bench/ops_load.py --url https://127.0.0.1/graphql --insecure --streams 40 --orders 5 --seconds 60

It logs in the demo clients, opens `--streams` quote subscriptions spread over them, places
`--orders` marketable orders per second (alternating buys and sells of 600000), and prints what an
operator sees: each API process's connections and the cluster's order rate, pushes and alerts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import ssl
import time

import httpx
import websockets

CLIENTS = ["std001", "std002", "silver001", "gold001", "plat001", "vip001"]
MONITOR = """{ monitorStats { processes { id role connections subscriptions }
  cluster { apiProcesses exchangeProcesses connections ordersPerSecond fillsPerSecond pushesPerSecond }
  alerts { rule severity clearedAt } } }"""


async def gql(http: httpx.AsyncClient, url: str, query: str, variables: dict | None = None, token: str = "") -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post(url, json={"query": query, "variables": variables or {}}, headers=headers)
    return response.json()


async def login(http: httpx.AsyncClient, url: str, username: str, operator: bool = False) -> str:
    field, password = ("operatorLogin", "Admin#2026") if operator else ("login", "Demo#2026")
    query = f'mutation {{ {field}(input: {{username: "{username}", password: "{password}"}}) {{ accessToken }} }}'
    return (await gql(http, url, query))["data"][field]["accessToken"]


async def stream_quotes(url: str, token: str, context: ssl.SSLContext | None, stop: asyncio.Event) -> None:
    ws_url = url.replace("https://", "wss://").replace("http://", "ws://")
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"], ssl=context) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        await ws.recv()
        query = 'subscription { quotes(symbols: ["600000", "000001", "510300"]) { symbol last } }'
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ws.recv(), 1)


async def trade(http: httpx.AsyncClient, url: str, token: str, per_second: float, stop: asyncio.Event) -> None:
    me = await gql(http, url, "{ me { accounts { id type } } }", token=token)
    account = next(a["id"] for a in me["data"]["me"]["accounts"] if a["type"] == "CASH")
    place = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { errors { code } } }"
    side = "BUY"
    while not stop.is_set():
        order = {
            "accountId": account,
            "symbol": "600000",
            "side": side,
            "type": "MARKET",
            "quantity": 100,
            "riskAcknowledged": True,
        }  # std002 (C2) buys an R3 stock: suitability needs it
        await gql(http, url, place, {"i": order}, token)
        side = "SELL" if side == "BUY" else "BUY"
        await asyncio.sleep(1 / per_second)


async def main(args: argparse.Namespace) -> None:
    context = None
    if args.insecure:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    async with httpx.AsyncClient(verify=not args.insecure, timeout=30) as http:
        tokens = [await login(http, args.url, name) for name in CLIENTS]
        ops = await login(http, args.url, "ops", operator=True)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(stream_quotes(args.url, tokens[i % len(tokens)], context, stop))
            for i in range(args.streams)
        ]
        if args.orders > 0:
            tasks.append(asyncio.create_task(trade(http, args.url, tokens[3], args.orders, stop)))
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(args.every)
            view = (await gql(http, args.url, MONITOR, token=ops))["data"]["monitorStats"]
            apis = ", ".join(f"{p['id']}={p['connections']}" for p in view["processes"] if p["role"] != "exchange")
            open_alerts = [a["rule"] for a in view["alerts"] if a["clearedAt"] is None]
            cluster = json.dumps(view["cluster"])
            print(f"{time.strftime('%H:%M:%S')} {cluster} API connections: {apis} alerts: {open_alerts}", flush=True)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--insecure", action="store_true", help="accept a self-signed TLS certificate")
    parser.add_argument("--streams", type=int, default=20, help="quote subscriptions to open")
    parser.add_argument("--orders", type=float, default=2.0, help="marketable orders per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between monitor prints")
    asyncio.run(main(parser.parse_args()))
