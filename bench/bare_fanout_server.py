"""The floor for quote fan-out by symbol: a bare Starlette server that serializes each snapshot once.

    python bench/bare_fanout_server.py --port P --template quote.json --rate 1.7

Speaks just enough graphql-transport-ws for `bench/bench_fanout.py`'s clients: connection_init ->
connection_ack; a subscribe with `variables.s` (symbols) registers the socket under each symbol; any
other subscribe (the orderEvents sockets) is held open and sent nothing. Every 1/--rate seconds, per
symbol, the template (a real `next` message captured from `brokerql serve`, so the same size) gets that
symbol and a fresh asOf, is turned into text once with `json.dumps`, and the same string is written to
every socket of the symbol (the subscription id spliced in). No GraphQL, no bus, no per-subscriber work.
Served by uvicorn with the options `brokerql serve` uses (websockets-sansio, permessage-deflate off).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


def make_app(template: dict[str, Any], rate: float) -> Starlette:
    by_symbol: dict[str, dict[WebSocket, str]] = {}
    stats = {"sent": 0, "failed": 0, "sockets": 0}

    async def publish(symbol: str) -> None:
        quote = template["payload"]["data"]["quotes"]
        quote["symbol"], quote["asOf"] = symbol, datetime.now(UTC).isoformat()
        payload = json.dumps(template["payload"], ensure_ascii=False, separators=(",", ":"))  # once
        for ws, op_id in list(by_symbol.get(symbol, {}).items()):
            try:
                await ws.send_text('{"id":' + json.dumps(op_id) + ',"type":"next","payload":' + payload + "}")
                stats["sent"] += 1
            except Exception:
                stats["failed"] += 1
                by_symbol[symbol].pop(ws, None)

    async def broadcast_forever() -> None:
        next_at = time.monotonic()
        while True:
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            for symbol in list(by_symbol):
                await publish(symbol)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(broadcast_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def endpoint(ws: WebSocket) -> None:
        await ws.accept(subprotocol="graphql-transport-ws")
        stats["sockets"] += 1
        symbols: list[str] = []
        try:
            while True:
                message = await ws.receive_json()
                if message.get("type") == "connection_init":
                    await ws.send_json({"type": "connection_ack"})
                elif message.get("type") == "subscribe":
                    symbols = list((message.get("payload") or {}).get("variables", {}).get("s") or [])
                    for symbol in symbols:
                        by_symbol.setdefault(symbol, {})[ws] = message.get("id", "1")
                elif message.get("type") == "ping":
                    await ws.send_json({"type": "pong"})
        except WebSocketDisconnect:
            pass
        finally:
            stats["sockets"] -= 1
            for symbol in symbols:
                by_symbol.get(symbol, {}).pop(ws, None)

    async def healthz(_request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"ok {stats}")

    return Starlette(routes=[Route("/healthz", healthz), WebSocketRoute("/graphql", endpoint)], lifespan=lifespan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--template", required=True, help="JSON file: one captured graphql-transport-ws next message")
    parser.add_argument("--rate", type=float, default=1.7, help="snapshots per second per symbol")
    args = parser.parse_args()
    with open(args.template, encoding="utf-8") as f:
        template = json.load(f)
    uvicorn.run(
        make_app(template, args.rate),
        host="127.0.0.1",
        port=args.port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
