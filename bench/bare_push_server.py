"""The floor for quote pushes: a bare Starlette WebSocket endpoint that broadcasts, serialized once.

    python bench/bare_push_server.py --port P --template quote.json [--tick 0.1] [--per-tick 12]

Speaks just enough graphql-transport-ws for `bench/bench_push.py`'s clients (connection_init ->
connection_ack, subscribe registers the socket). Every `--tick` seconds it sends `--per-tick` quote
messages to every registered socket: each is the template (a real `next` message captured from
`brokerql serve`, so the same size) with its symbol and asOf replaced, turned into text once with
`json.dumps` and the same string handed to every socket in turn. No GraphQL, no bus, no
per-subscriber work: what uvicorn + websockets cost per push and per socket. Served by uvicorn with
the same options as `brokerql serve` (websockets implementation, permessage-deflate off).
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

SYMBOLS = ["600000", "600519", "601318", "000001", "000858", "300750", "688981", "00700", "09988", "510300"]
SYMBOLS += ["510050", "IF2612"]


def make_app(template: dict[str, Any], tick: float, per_tick: int) -> Starlette:
    subscribers: dict[WebSocket, str] = {}
    stats = {"sent": 0, "failed": 0}

    async def broadcast_forever() -> None:
        quote = template["payload"]["data"]["quotes"]
        n = 0
        next_at = time.monotonic()
        while True:
            next_at += tick
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            for _ in range(per_tick):
                quote["symbol"] = SYMBOLS[n % len(SYMBOLS)]
                quote["asOf"] = datetime.now(UTC).isoformat()
                n += 1
                text = json.dumps(template, ensure_ascii=False, separators=(",", ":"))  # once for every socket
                for ws in list(subscribers):
                    try:
                        await ws.send_text(text)
                        stats["sent"] += 1
                    except Exception:
                        stats["failed"] += 1
                        subscribers.pop(ws, None)

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
        try:
            while True:
                message = await ws.receive_json()
                if message.get("type") == "connection_init":
                    await ws.send_json({"type": "connection_ack"})
                elif message.get("type") == "subscribe":
                    subscribers[ws] = message.get("id", "1")
                elif message.get("type") == "ping":
                    await ws.send_json({"type": "pong"})
        except WebSocketDisconnect:
            pass
        finally:
            subscribers.pop(ws, None)

    async def healthz(_request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"ok {len(subscribers)} sockets, {stats['sent']} sent, {stats['failed']} failed")

    return Starlette(
        routes=[Route("/healthz", healthz), WebSocketRoute("/graphql", endpoint)],
        lifespan=lifespan,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--template", required=True, help="JSON file: one captured graphql-transport-ws next message")
    parser.add_argument("--tick", type=float, default=0.1, help="seconds between broadcasts (default 0.1)")
    parser.add_argument("--per-tick", type=int, default=12, help="quote messages per tick (default 12)")
    args = parser.parse_args()
    with open(args.template, encoding="utf-8") as f:
        template = json.load(f)
    app = make_app(template, args.tick, args.per_tick)
    uvicorn.run(
        app, host=args.host, port=args.port, ws="websockets-sansio", ws_per_message_deflate=False, log_level="warning"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
