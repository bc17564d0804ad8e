"""The floor for quote fan-out by symbol: a bare Starlette server that serializes each snapshot once.

    python bench/bare_fanout_server.py --port P --template quote.json --rate 1.7 [--workers N]

Speaks just enough graphql-transport-ws for `bench/bench_fanout.py`'s clients: connection_init ->
connection_ack; a subscribe with `variables.s` (symbols) registers the socket under each symbol; any
other subscribe (the orderEvents sockets) is held open and sent nothing. Every 1/--rate seconds, per
symbol, the template (a real `next` message captured from `brokerql serve`, so the same size) gets that
symbol and the tick's asOf, is turned into text once with `json.dumps`, and the same string is written to
every socket of the symbol (the subscription id spliced in). No GraphQL, no bus, no per-subscriber work.
Served by uvicorn with the options `brokerql serve` uses (websockets-sansio, permessage-deflate off);
with --workers N, by N uvicorn workers, each broadcasting to its own sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
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

    async def publish(symbol: str, as_of: str) -> None:
        quote = template["payload"]["data"]["quotes"]
        quote["symbol"], quote["asOf"] = symbol, as_of
        payload = json.dumps(template["payload"], ensure_ascii=False, separators=(",", ":"))  # once
        for ws, op_id in list(by_symbol.get(symbol, {}).items()):
            try:
                await ws.send_text('{"id":' + json.dumps(op_id) + ',"type":"next","payload":' + payload + "}")
                stats["sent"] += 1
            except Exception:
                stats["failed"] += 1
                by_symbol[symbol].pop(ws, None)

    async def broadcast_forever() -> None:
        # Ticks on the wall clock's slots of 1/rate s, stamped with the slot: with --workers N every worker
        # publishes a tick under the same asOf, so the load counts one snapshot per tick, not N.
        slot = int(time.time() * rate)
        while True:
            slot += 1
            await asyncio.sleep(max(0.0, slot / rate - time.time()))
            as_of = datetime.fromtimestamp(slot / rate, UTC).isoformat()
            for symbol in list(by_symbol):
                await publish(symbol, as_of)

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


def from_environment() -> Starlette:
    """The app of a uvicorn worker (an import string: workers are started by name)."""
    with open(os.environ["BARE_FANOUT_TEMPLATE"], encoding="utf-8") as f:
        return make_app(json.load(f), float(os.environ["BARE_FANOUT_RATE"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--template", required=True, help="JSON file: one captured graphql-transport-ws next message")
    parser.add_argument("--rate", type=float, default=1.7, help="snapshots per second per symbol")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    os.environ["BARE_FANOUT_TEMPLATE"], os.environ["BARE_FANOUT_RATE"] = args.template, str(args.rate)
    uvicorn.run(
        "bare_fanout_server:from_environment",
        factory=True,
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        workers=args.workers,
        host="127.0.0.1",
        port=args.port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
