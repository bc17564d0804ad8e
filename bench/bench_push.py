"""Push capacity of one served process (E2): quote and orderEvents WebSockets against `brokerql serve`.

    python bench/bench_push.py --quote-clients 100 500 1000 2000 --order-clients 100 500 --seconds 10

For every view (L1, L2) and every N in --quote-clients, a fresh `brokerql serve` subprocess
(SQLite in a temp dir, in-process bus, demo data, fast market tick) is started on a free port, and
this process (the load generator, `websockets` client, 127.0.0.1 only):

1. logs in once per demo user and reuses the tokens;
2. phase A: opens N quote sockets in batches, each `quotes(symbols: [all 12 demo symbols])` with
   Level-1 fields (L1, round-robin over the demo users) or Level-1 + 10-level depth as gold001 (L2),
   and measures for --seconds: pushes/s received, p50/p99 push age (receive time - asOf; delayed HK
   views are counted but not aged), server RSS before/after connecting (and per socket), server CPU%;
3. phase B, for each M in --order-clients (cumulative): opens orderEvents sockets up to M
   (round-robin over the demo CASH accounts) while an order driver places small market orders
   (--orders-per-second, alternating buy/sell of 100 shares of 600000 per account), and measures
   both kinds of pushes again, with the order event age (receive time - `at`).

Then the same N quote sockets against `bench/bare_push_server.py` (Starlette, serialize once,
broadcast; same message size, same per-client message rate as measured on `brokerql serve`), and
the ratios. A run at which `brokerql serve` delivers less than --saturated of the offered quote
rate stops the larger N of that view. Everything is bounded: connection timeouts, --seconds, the
subprocesses are terminated at the end. The load generator shares the machine's cores with the
server: its own CPU% is printed, so a generator-bound figure can be told apart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
SYMBOLS = ["600000", "600519", "601318", "000001", "000858", "300750", "688981", "00700", "09988", "510300"]
SYMBOLS += ["510050", "IF2612"]
L1_USERS = ["std001", "std002", "silver001", "gold001", "plat001", "vip001"]  # trial001 has no HK view
TRADERS = L1_USERS
PASSWORD = "Demo#2026"
L1_FIELDS = "symbol last open high low bid ask bidSize askSize volume turnover phase delayed asOf"
L2_FIELDS = L1_FIELDS + " depth(levels: 10) { bids { price quantity orders } asks { price quantity orders } }"
QUOTES = "subscription($s: [String!]!) { quotes(symbols: $s) { %s } }"
ORDER_EVENTS = """subscription($a: ID!) { orderEvents(accountId: $a) { __typename
  ... on OrderEvent { seq kind at order { id status } } ... on Heartbeat { lastSeq } } }"""
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id } errors { code message } } }"
CLK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard) if soft < hard else (soft, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


def tree_pids(pid: int) -> list[int]:
    """`pid` and every live process below it (uvicorn's workers, their guard workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and every live process below it."""
    total = 0.0
    for each in tree_pids(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):  # gone meanwhile
            total += cpu_seconds(each)
    return total


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class Server:
    """A subprocess serving on 127.0.0.1:port, healthy when /healthz answers 200."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.argv, self.env, self.port, self.log = argv, env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Server:
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=out, preexec_fn=raise_nofile
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not healthy in {timeout}s: {self.log.read_text()[-3000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def project_env(port: int, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's `brokerql serve`: this machine's, less any BROKERQL_ setting of
    the caller's shell, plus the server's port on 127.0.0.1, its database, the demo data, cheap password
    hashing, and the tier limits lifted (benchmarks only: a few demo users hold every socket and order)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKERQL_")}
    env.update(
        BROKERQL_PORT=str(port),
        BROKERQL_HOST="127.0.0.1",
        BROKERQL_DATABASE_URL=database_url,
        BROKERQL_DEMO="1",
        BROKERQL_SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnopqrst",
        BROKERQL_ARGON2_TIME_COST="1",
        BROKERQL_ARGON2_MEMORY_KIB="8",
        BROKERQL_RATE_LIMIT_SCALE="1000",
        **extra,
    )
    return env


def brokerql_server(tmp: Path, tick: float, log: Path) -> Server:
    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp / f'push-{port}.db'}"
    env = project_env(port, url, BROKERQL_MARKET_TICK_SECONDS=str(tick), BROKERQL_MARKET_WARMUP_STEPS="20")
    return Server([sys.executable, "-m", "brokerql.cli", "serve"], env, port, log)


def bare_server(template: Path, tick: float, per_tick: int, log: Path) -> Server:
    port = free_port()
    argv = [sys.executable, str(ROOT / "bench" / "bare_push_server.py"), "--port", str(port)]
    argv += ["--template", str(template), "--tick", str(tick), "--per-tick", str(per_tick)]
    return Server(argv, dict(os.environ), port, log)


def as_of_age(text: str, key: str, now: float) -> float | None:
    """Seconds since the timestamp under `key` in a raw message (no full JSON parse: cheap)."""
    i = text.find(key)
    if i < 0:
        return None
    i += len(key)
    j = text.find('"', i)
    try:
        return now - datetime.fromisoformat(text[i:j]).timestamp()
    except ValueError:
        return None


@dataclass
class Load:
    """Counters of the load generator; ages are only sampled while `measuring`."""

    measuring: bool = False
    quote_pushes: int = 0
    order_pushes: int = 0
    heartbeats: int = 0
    quote_ages: list[float] = field(default_factory=list)
    order_ages: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    closed: int = 0
    sockets: list[ClientConnection] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    captured: dict[str, str] = field(default_factory=dict)
    seen: dict[str, set[str]] = field(default_factory=dict)  # user -> distinct symbol+asOf while measuring
    users: list[str] = field(default_factory=list)  # the user of every quote socket

    def offered(self) -> int:
        """Distinct snapshots that reached any socket of a user, summed over that user's sockets."""
        return sum(len(self.seen.get(user, ())) for user in self.users)

    def reset(self) -> None:
        self.quote_pushes = self.order_pushes = self.heartbeats = 0
        self.quote_ages, self.order_ages = [], []
        self.seen = {}


async def read_socket(ws: ClientConnection, kind: str, load: Load, user: str) -> None:
    try:
        async for text in ws:
            assert isinstance(text, str)
            now = time.time()
            if not text.startswith('{"type":"next"') and '"next"' not in text[:40]:
                if len(load.errors) < 20:
                    load.errors.append(f"{kind}: {text[:300]}")
                continue
            if kind == "quotes":
                load.quote_pushes += 1
                if kind not in load.captured and '"delayed":false' in text:
                    load.captured[kind] = text
                if load.measuring:
                    i = text.find('"symbol":"')
                    j = text.find('"asOf":"')
                    load.seen.setdefault(user, set()).add(text[i + 10 : i + 18] + text[j + 8 : j + 40])
                if load.measuring and '"delayed":false' in text:
                    age = as_of_age(text, '"asOf":"', now)
                    if age is not None:
                        load.quote_ages.append(age)
            elif '"Heartbeat"' in text:
                load.heartbeats += 1
            else:
                load.order_pushes += 1
                if load.measuring:
                    age = as_of_age(text, '"at":"', now)
                    if age is not None:
                        load.order_ages.append(age)
    except Exception as exc:
        if len(load.errors) < 20:
            load.errors.append(f"{kind} read: {exc!r}"[:300])
    finally:
        load.closed += 1


async def open_socket(
    url: str, token: str | None, query: str, variables: dict[str, Any], kind: str, load: Load
) -> bool:
    user = str(variables.pop("_user", token))
    try:
        ws = await asyncio.wait_for(
            connect(
                url,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                compression=None,
                ping_interval=None,
                max_size=None,
                open_timeout=30,
            ),
            30,
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no ack: {ack}")
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
    except Exception as exc:
        if len(load.errors) < 20:
            load.errors.append(f"{kind} connect: {exc!r}"[:300])
        return False
    load.sockets.append(ws)
    if kind == "quotes":
        load.users.append(user)
    load.tasks.append(asyncio.create_task(read_socket(ws, kind, load, user)))
    return True


async def ramp(specs: list[tuple[str | None, str, dict[str, Any], str]], url: str, load: Load, batch: int) -> int:
    ok = 0
    for i in range(0, len(specs), batch):
        results = await asyncio.gather(*(open_socket(url, *spec, load=load) for spec in specs[i : i + batch]))
        ok += sum(results)
        await asyncio.sleep(0.05)
    return ok


async def measure(pid: int, load: Load, seconds: float) -> dict[str, float]:
    load.reset()
    load.measuring = True
    cpu0, me0, rss0, t0 = cpu_seconds(pid), self_cpu(), rss_kib(pid), time.monotonic()
    await asyncio.sleep(seconds)
    load.measuring = False
    dt = time.monotonic() - t0
    return {
        "seconds": dt,
        "quote_pps": load.quote_pushes / dt,
        "delivered": load.quote_pushes / max(1, load.offered()),
        "order_pps": load.order_pushes / dt,
        "heartbeat_pps": load.heartbeats / dt,
        "q_p50_ms": pct(load.quote_ages, 0.5) * 1000,
        "q_p99_ms": pct(load.quote_ages, 0.99) * 1000,
        "o_p50_ms": pct(load.order_ages, 0.5) * 1000,
        "o_p99_ms": pct(load.order_ages, 0.99) * 1000,
        "cpu_pct": (cpu_seconds(pid) - cpu0) / dt * 100,
        "gen_cpu_pct": (self_cpu() - me0) / dt * 100,
        "rss_start_mib": rss0 / 1024,
        "rss_end_mib": rss_kib(pid) / 1024,
    }


async def close_all(load: Load) -> None:
    await asyncio.gather(*(asyncio.wait_for(ws.close(), 5) for ws in load.sockets), return_exceptions=True)
    for task in load.tasks:
        task.cancel()
    await asyncio.gather(*load.tasks, return_exceptions=True)


async def gql(
    http: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any], token: str | None = None
) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post(url, json={"query": query, "variables": variables}, headers=headers, timeout=30)
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def login_all(http: httpx.AsyncClient, url: str) -> tuple[dict[str, str], dict[str, str]]:
    login = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken } }"
    tokens, accounts = {}, {}
    for user in L1_USERS:
        tokens[user] = (await gql(http, url, login, {"u": user, "p": PASSWORD}))["login"]["accessToken"]
        me = await gql(http, url, "{ me { accounts { id type } } }", {}, tokens[user])
        accounts[user] = next(a["id"] for a in me["me"]["accounts"] if a["type"] == "CASH")
    return tokens, accounts


async def drive_orders(url: str, tokens: dict[str, str], accounts: dict[str, str], rate: float, stats: dict) -> None:
    """Small market orders round-robin over the traders: each one is pushed as ACCEPTED, FILL events."""
    n = 0
    async with httpx.AsyncClient() as http:
        next_at = time.monotonic()
        while True:
            user = TRADERS[n % len(TRADERS)]
            side = "BUY" if (n // len(TRADERS)) % 2 == 0 else "SELL"
            order = {
                "accountId": accounts[user],
                "symbol": "600000",
                "side": side,
                "type": "MARKET",
                "quantity": 100,
                "riskAcknowledged": True,
            }  # std002 (C2) buys an R3 stock: suitability needs it
            t0 = time.monotonic()
            try:
                data = await gql(http, url, PLACE, {"i": order}, tokens[user])
                if data["placeOrder"]["errors"]:
                    stats["rejected"] += 1
                    stats.setdefault("reasons", set()).add(str(data["placeOrder"]["errors"][0]["code"]))
                else:
                    stats["placed"] += 1
                    stats["latency"].append(time.monotonic() - t0)
            except Exception as exc:
                stats["failed"] += 1
                stats.setdefault("reasons", set()).add(repr(exc)[:120])
            n += 1
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


def quote_specs(view: str, n: int) -> list[tuple[str | None, str, dict[str, Any], str]]:
    fields = L1_FIELDS if view == "L1" else L2_FIELDS
    users = L1_USERS if view == "L1" else ["gold001"]
    return [(users[i % len(users)], QUOTES % fields, {"s": SYMBOLS}, "quotes") for i in range(n)]


def fmt(row: dict[str, Any]) -> str:
    return "  ".join(f"{k}={v:,.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


async def run_brokerql(args: argparse.Namespace, tmp: Path, view: str, n: int) -> dict[str, Any]:
    server = brokerql_server(tmp, args.tick, tmp / f"serve-{view}-{n}.log").start()
    url = f"http://127.0.0.1:{server.port}/graphql"
    ws_url = url.replace("http://", "ws://")
    load = Load()
    driver: asyncio.Task[None] | None = None
    try:
        async with httpx.AsyncClient() as http:
            tokens, accounts = await login_all(http, url)
        await asyncio.sleep(1.0)
        rss_idle = rss_kib(server.pid)
        idle = await measure(server.pid, load, 2)
        t0 = time.monotonic()
        specs = [(tokens[u], q, {**v, "_user": u}, k) for u, q, v, k in quote_specs(view, n)]  # type: ignore[index]
        opened = await ramp(specs, ws_url, load, args.batch)
        ramp_s = time.monotonic() - t0
        await asyncio.sleep(args.settle)
        rss_quotes = rss_kib(server.pid)
        a = await measure(server.pid, load, args.seconds)
        result: dict[str, Any] = {
            "view": view,
            "N": n,
            "opened": opened,
            "ramp_s": ramp_s,
            "rss_idle_mib": rss_idle / 1024,
            "rss_quotes_mib": rss_quotes / 1024,
            "idle_cpu_pct": idle["cpu_pct"],
            "kib_per_quote_socket": (rss_quotes - rss_idle) / max(1, opened),
            "A": a,
            "B": [],
            "errors": load.errors,
            "closed_during": load.closed,
            "template": load.captured.get("quotes"),
        }
        print(
            f"  brokerql {view} N={n}: opened {opened}/{n} in {ramp_s:.1f}s, "
            f"{result['kib_per_quote_socket']:.0f} KiB/socket, idle CPU {idle['cpu_pct']:.0f}%; A: {fmt(a)}",
            flush=True,
        )
        order_stats: dict[str, Any] = {"placed": 0, "rejected": 0, "failed": 0, "latency": []}
        have = 0
        for m in args.order_clients:
            more = [
                (tokens[u], ORDER_EVENTS, {"a": accounts[u]}, "orders")
                for u in (TRADERS[i % len(TRADERS)] for i in range(have, m))
            ]
            rss0 = rss_kib(server.pid)
            got = await ramp(more, ws_url, load, args.batch)  # type: ignore[arg-type]
            have = m
            if driver is None and args.orders_per_second > 0:
                driver = asyncio.create_task(drive_orders(url, tokens, accounts, args.orders_per_second, order_stats))
            await asyncio.sleep(args.settle)
            kib = (rss_kib(server.pid) - rss0) / max(1, got)
            order_stats["latency"] = []
            placed0 = order_stats["placed"]
            b = await measure(server.pid, load, args.seconds)
            b["orders_placed_per_s"] = (order_stats["placed"] - placed0) / b["seconds"]
            b["place_p50_ms"] = pct(order_stats["latency"], 0.5) * 1000
            b["place_p99_ms"] = pct(order_stats["latency"], 0.99) * 1000
            result["B"].append({"M": m, "opened": got, "kib_per_order_socket": kib, **b})
            print(f"  brokerql {view} N={n} +M={m}: opened {got}, {kib:.0f} KiB/socket; B: {fmt(b)}", flush=True)
        result["orders"] = {k: v for k, v in order_stats.items() if k != "latency"}
        result["closed_during"] = load.closed
        result["errors"] = load.errors
        return result
    finally:
        if driver is not None:
            driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await driver
        await close_all(load)
        server.stop()


async def run_bare(args: argparse.Namespace, tmp: Path, view: str, n: int, template: Path, per_tick: int) -> dict:
    server = bare_server(template, args.tick, per_tick, tmp / f"bare-{view}-{n}.log").start()
    ws_url = f"ws://127.0.0.1:{server.port}/graphql"
    load = Load()
    try:
        await asyncio.sleep(0.5)
        rss_idle = rss_kib(server.pid)
        t0 = time.monotonic()
        opened = await ramp([(None, "bare", {}, "quotes")] * n, ws_url, load, args.batch)
        ramp_s = time.monotonic() - t0
        await asyncio.sleep(args.settle)
        rss_quotes = rss_kib(server.pid)
        a = await measure(server.pid, load, args.seconds)
        kib = (rss_quotes - rss_idle) / max(1, opened)
        print(
            f"  bare     {view} N={n}: opened {opened}/{n} in {ramp_s:.1f}s, {kib:.0f} KiB/socket; A: {fmt(a)}",
            flush=True,
        )
        return {
            "opened": opened,
            "ramp_s": ramp_s,
            "kib_per_quote_socket": kib,
            "rss_idle_mib": rss_idle / 1024,
            "A": a,
            "errors": load.errors,
        }
    finally:
        await close_all(load)
        server.stop()


async def probe(args: argparse.Namespace, tmp: Path, view: str) -> tuple[float, str]:
    """Per-client quote messages/s offered by brokerql at 5 clients, and one captured real-time message."""
    server = brokerql_server(tmp, args.tick, tmp / f"probe-{view}.log").start()
    url = f"http://127.0.0.1:{server.port}/graphql"
    load = Load()
    try:
        async with httpx.AsyncClient() as http:
            tokens, _ = await login_all(http, url)
        specs = [(tokens[u], q, {**v, "_user": u}, k) for u, q, v, k in quote_specs(view, 5)]  # type: ignore[index]
        await ramp(specs, url.replace("http://", "ws://"), load, 5)
        await asyncio.sleep(2)
        a = await measure(server.pid, load, max(3.0, args.seconds / 2))
        return a["quote_pps"] / a["delivered"] / 5, load.captured["quotes"]
    finally:
        await close_all(load)
        server.stop()


def summary(results: list[dict[str, Any]]) -> None:
    print(
        "\nview  N     opened  quote pushes/s  per client/s  p50/p99 age ms  CPU%  gen CPU%  KiB/socket  "
        "| bare pushes/s  bare KiB/socket  bare/brokerql pushes  brokerql/bare KiB"
    )
    for r in results:
        a, bare = r["A"], r.get("bare")
        line = (
            f"{r['view']:<5} {r['N']:<5} {r['opened']:<7} {a['quote_pps']:>14,.0f}  "
            f"{a['quote_pps'] / max(1, r['opened']):>12.1f}  {a['q_p50_ms']:>6.0f}/{a['q_p99_ms']:<7.0f} "
            f"{a['cpu_pct']:>4.0f}  {a['gen_cpu_pct']:>8.0f}  {r['kib_per_quote_socket']:>10.0f}"
        )
        if bare:
            b = bare["A"]
            line += (
                f"  | {b['quote_pps']:>13,.0f}  {bare['kib_per_quote_socket']:>15.0f}  "
                f"{b['quote_pps'] / max(1.0, a['quote_pps']):>20.2f}x  "
                f"{r['kib_per_quote_socket'] / max(1.0, bare['kib_per_quote_socket']):>16.2f}x"
            )
        print(line)
    print(
        "\nview  N     +M    quote pushes/s  order pushes/s  heartbeats/s  order p50/p99 ms  quote p99 ms  CPU%  "
        "gen CPU%  RSS MiB  orders/s  placeOrder p99 ms"
    )
    for r in results:
        for b in r["B"]:
            print(
                f"{r['view']:<5} {r['N']:<5} {b['M']:<5} {b['quote_pps']:>14,.0f}  {b['order_pps']:>14,.0f}  "
                f"{b['heartbeat_pps']:>12,.0f}  {b['o_p50_ms']:>7.0f}/{b['o_p99_ms']:<8.0f} {b['q_p99_ms']:>12.0f}  "
                f"{b['cpu_pct']:>4.0f}  {b['gen_cpu_pct']:>8.0f}  {b['rss_end_mib']:>7.0f}  "
                f"{b['orders_placed_per_s']:>8.1f}  {b['place_p99_ms']:>10.0f}"
            )


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    raise_nofile()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmpdir:
        tmp = Path(tmpdir)
        for view in args.views:
            per_client, message = await probe(args, tmp, view)
            per_tick = max(1, round(per_client * args.tick))
            template = tmp / f"template-{view}.json"
            template.write_text(message, encoding="utf-8")
            print(
                f"{view}: brokerql offers {per_client:.1f} quote pushes/s per client (tick {args.tick}s) -> bare "
                f"server sends {per_tick} per tick; message {len(message.encode())} bytes",
                flush=True,
            )
            for n in args.quote_clients:
                result = await run_brokerql(args, tmp, view, n)
                result["offered_per_client"] = per_client
                if not args.no_bare:
                    result["bare"] = await run_bare(args, tmp, view, n, template, per_tick)
                results.append(result)
                if result["errors"]:
                    print(f"  errors ({len(result['errors'])} shown):", *result["errors"][:5], sep="\n    ")
                if result.get("orders"):
                    print(f"  order driver: {result['orders']}")
                delivered = result["A"]["delivered"]
                if delivered < args.saturated or result["opened"] < n * 0.9:
                    print(f"  saturated: {delivered:.0%} of the snapshots delivered; skipping larger N for {view}")
                    break
    summary(results)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quote-clients", type=int, nargs="+", default=[100, 500, 1000, 2000], metavar="N")
    parser.add_argument(
        "--order-clients",
        type=int,
        nargs="*",
        default=[100, 500],
        metavar="M",
        help="orderEvents sockets added after the quote phase, cumulative (default 100 500)",
    )
    parser.add_argument("--seconds", type=float, default=10, help="measurement window per phase (default 10)")
    parser.add_argument("--views", nargs="+", choices=["L1", "L2"], default=["L1", "L2"])
    parser.add_argument("--tick", type=float, default=0.1, help="BROKERQL_MARKET_TICK_SECONDS (default 0.1)")
    parser.add_argument("--orders-per-second", type=float, default=4, help="order driver rate in phase B (default 4)")
    parser.add_argument("--batch", type=int, default=100, help="sockets opened concurrently per ramp step")
    parser.add_argument("--settle", type=float, default=2, help="seconds after a ramp before measuring")
    parser.add_argument(
        "--saturated",
        type=float,
        default=0.8,
        help="stop a view's larger N below this fraction of the offered per-client rate",
    )
    parser.add_argument("--no-bare", action="store_true", help="skip the bare Starlette baseline")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
