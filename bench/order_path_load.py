"""The processes `bench_order_path.py` starts: the load generator and the raw-commit baseline.

    python bench/order_path_load.py orders < SPEC_LINE    # placeOrder from this process's clients
    python bench/order_path_load.py commits < SPEC_LINE   # durable single-row commits, nothing else

Both print one JSON object on stdout and exit by themselves at the spec's `stop_at` (wall clock, so
that several processes start and stop together). Traffic goes to 127.0.0.1 only.

orders: every client of the spec holds one `orderEvents` subscription (graphql-transport-ws) on its
account, then, from `start_at`, either places market buys back to back on its own keep-alive HTTP/1.1
connection (`mode` full: closed loop, the sustained rate) or the process places `rate` orders a second
in total, round-robin over its clients, each at its scheduled time whatever is still in flight (`mode`
rate: open loop, so a slow answer cannot slow the offered load down). Acknowledgement = scheduled send
to the HTTP answer (after the server's commit); FILL push = scheduled send to the arrival of that
order's first FILL event on the account's subscription.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from typing import Any

from websockets.asyncio.client import connect

PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id } errors { code } } }"
EVENTS = """subscription($a: ID!) { orderEvents(accountId: $a) {
  __typename ... on OrderEvent { kind order { id } } } }"""
# Liquid symbols of boards a C4 client may buy without an acknowledgement (main boards, ETFs).
SYMBOLS = ["600000", "601318", "000001", "000858", "510300", "510050"]


class Http:
    """One keep-alive HTTP/1.1 connection (a minimal client: one Python process with httpx could not
    load the server)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Http:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, body: bytes, token: str) -> tuple[str, bytes]:
        head = (
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        line = await self.reader.readline()
        if not line:  # the server closed an idle keep-alive connection
            raise ConnectionResetError("closed by the server")
        status = line.split(b" ", 2)[1].decode()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class Tally:
    """What one generator process saw; latencies in seconds, only for orders sent inside the window."""

    def __init__(self) -> None:
        self.ok = self.failed = 0
        self.rejected: dict[str, int] = {}
        self.errors: list[str] = []
        self.ack: list[float] = []
        self.fill: list[float] = []
        self.fills_in_window = 0
        self.sent: dict[str, float] = {}  # order id -> scheduled send, until its FILL arrives
        self.early: dict[str, float] = {}  # order id -> FILL arrival, when the FILL beat the HTTP answer

    def answered(self, order_id: str, sent: float) -> None:
        if order_id in self.early:
            self.fill.append(self.early.pop(order_id) - sent)
        else:
            self.sent[order_id] = sent

    def filled(self, order_id: str, at: float, stop_at: float) -> None:
        if at <= stop_at:
            self.fills_in_window += 1
        sent = self.sent.pop(order_id, None)
        if sent is not None:
            self.fill.append(at - sent)
        else:
            self.early[order_id] = at

    def note(self, error: str) -> None:
        self.failed += 1
        if len(self.errors) < 10:
            self.errors.append(error[:300])


async def subscribe(port: int, token: str, account: str, tally: Tally, stop_at: float) -> asyncio.Task[None]:
    ws = await connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        open_timeout=30,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    subscription = {"query": EVENTS, "variables": {"a": account}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscription}))

    async def read() -> None:
        try:
            async for text in ws:
                if '"FILL"' not in text:  # ACCEPTED, heartbeats: not needed, not parsed
                    continue
                at = time.time()
                event = json.loads(text)["payload"]["data"]["orderEvents"]
                if event.get("kind") == "FILL":
                    tally.filled(event["order"]["id"], at, stop_at)
        except Exception as exc:  # the server closing at the end is expected; anything earlier is shown
            if time.time() < stop_at:
                tally.note(f"subscription: {exc!r}")
        finally:
            await ws.close()

    return asyncio.create_task(read())


def order_body(account: str, n: int) -> bytes:
    symbol = SYMBOLS[n % len(SYMBOLS)]
    order = {"accountId": account, "symbol": symbol, "side": "BUY", "type": "MARKET", "quantity": 100}
    return json.dumps({"query": PLACE, "variables": {"i": order}}).encode()


async def place(http: Http, client: dict[str, str], n: int, sent: float, tally: Tally, stop_at: float) -> None:
    """One order; it counts if answered by `stop_at` (closed loop: the sustained rate) or, with `stop_at`
    infinite, whenever (open loop: every order scheduled in the window has its latency)."""
    status, answer = await http.post(order_body(client["account"], n), client["token"])
    done = time.time()
    if status != "200":
        tally.note(f"HTTP {status}: {answer[:200]!r}")
        return
    result = (json.loads(answer).get("data") or {}).get("placeOrder")
    if result is None:
        tally.note(answer.decode(errors="replace"))
    elif result["errors"]:
        code = result["errors"][0]["code"]
        tally.rejected[code] = tally.rejected.get(code, 0) + 1
    elif done <= stop_at:
        tally.ok += 1
        tally.ack.append(done - sent)
        tally.answered(result["order"]["id"], sent)


async def closed_loop(spec: dict[str, Any], client: dict[str, str], index: int, tally: Tally) -> None:
    http = await Http.open(spec["port"])
    await asyncio.sleep(max(0.0, spec["start_at"] - time.time()))
    n = index
    try:
        while (sent := time.time()) < spec["stop_at"]:
            await place(http, client, n, sent, tally, spec["stop_at"])
            n += 1
    except Exception as exc:
        tally.note(repr(exc))
    finally:
        http.close()


async def open_loop(spec: dict[str, Any], tally: Tally) -> None:
    clients, rate, idle = spec["clients"], spec["rate"], []
    in_flight: set[asyncio.Task[None]] = set()

    async def fire(n: int, scheduled: float) -> None:
        reused = bool(idle)
        http = idle.pop() if idle else await Http.open(spec["port"])
        try:
            await place(http, clients[n % len(clients)], n, scheduled, tally, float("inf"))
            idle.append(http)
        except ConnectionResetError:
            http.close()
            if reused:  # an idle connection the server had closed meanwhile: the order was never sent
                await fire(n, scheduled)
            else:
                tally.note("connection reset")
        except Exception as exc:
            tally.note(repr(exc))
            http.close()

    n = 0
    while (scheduled := spec["start_at"] + n / rate) < spec["stop_at"]:
        await asyncio.sleep(max(0.0, scheduled - time.time()))
        task = asyncio.create_task(fire(n, scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        n += 1
    if in_flight:
        await asyncio.wait(in_flight, timeout=30)
    for http in idle:
        http.close()


async def orders(spec: dict[str, Any]) -> dict[str, Any]:
    tally = Tally()
    readers = [await subscribe(spec["port"], c["token"], c["account"], tally, spec["stop_at"]) for c in spec["clients"]]
    if spec["mode"] == "full":
        loops = [closed_loop(spec, c, i, tally) for i, c in enumerate(spec["clients"])]
        await asyncio.gather(*loops)
    else:
        await open_loop(spec, tally)
    deadline = time.time() + spec["drain"]  # the last orders' FILL events are still on their way
    while tally.sent and time.time() < deadline:  # noqa: ASYNC110 (no event to wait on: FILLs may never come)
        await asyncio.sleep(0.05)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return {
        "ok": tally.ok, "rejected": tally.rejected, "failed": tally.failed, "errors": tally.errors,
        "ack": tally.ack, "fill": tally.fill, "unfilled": len(tally.sent), "fills_in_window": tally.fills_in_window,
    }  # fmt: skip


def sqlite_commits(spec: dict[str, Any]) -> dict[str, Any]:
    """One connection (SQLite has one writer), the server's pragmas, BEGIN IMMEDIATE + INSERT + COMMIT."""
    db = sqlite3.connect(spec["path"], isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("CREATE TABLE IF NOT EXISTS bench_commit_scratch (id INTEGER PRIMARY KEY, payload TEXT, at REAL)")
    mode = [db.execute("PRAGMA journal_mode").fetchone()[0], db.execute("PRAGMA synchronous").fetchone()[0]]
    time.sleep(max(0.0, spec["start_at"] - time.time()))
    n = 0
    while time.time() < spec["stop_at"]:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO bench_commit_scratch (payload, at) VALUES (?, ?)", (f"row {n}", time.time()))
        db.execute("COMMIT")
        n += 1
    db.execute("DROP TABLE bench_commit_scratch")
    db.close()
    return {"commits": n, "connections": 1, "settings": f"journal_mode={mode[0]}, synchronous={mode[1]} (2 = FULL)"}


async def pg_commits(spec: dict[str, Any]) -> dict[str, Any]:
    """`connections` connections, each BEGIN + one INSERT + COMMIT again and again, server defaults."""
    import asyncpg

    table = spec["table"]
    admin = await asyncpg.connect(spec["dsn"])
    await admin.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload text, at double precision)")
    settings = f"synchronous_commit={await admin.fetchval('SHOW synchronous_commit')}, "
    settings += f"fsync={await admin.fetchval('SHOW fsync')}"
    connections = [await asyncpg.connect(spec["dsn"]) for _ in range(spec["connections"])]
    counts = [0] * len(connections)

    async def loop(k: int) -> None:
        db = connections[k]
        while time.time() < spec["stop_at"]:
            async with db.transaction():
                await db.execute(f"INSERT INTO {table} (payload, at) VALUES ($1, $2)", f"row {counts[k]}", time.time())
            counts[k] += 1

    await asyncio.sleep(max(0.0, spec["start_at"] - time.time()))
    await asyncio.gather(*(loop(k) for k in range(len(connections))))
    for db in connections:
        await db.close()
    await admin.execute(f"DROP TABLE {table}")
    await admin.close()
    return {"commits": sum(counts), "connections": len(connections), "settings": settings}


def main() -> int:
    kind, spec = sys.argv[1], json.loads(sys.stdin.readline())
    if kind == "orders":
        result = asyncio.run(orders(spec))
    elif "path" in spec:
        result = sqlite_commits(spec)
    else:
        result = asyncio.run(pg_commits(spec))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
