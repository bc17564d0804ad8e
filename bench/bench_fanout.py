"""Fan-out capacity (E2): N quote sockets + M orderEvents sockets on `brokerql serve` vs a bare broadcaster.

    python bench/bench_fanout.py [--quotes 2000] [--orders 1000] [--procs 4] [--seconds 10]
    python bench/bench_fanout.py --roots /work/main .        # before/after: each checkout's server
    python bench/bench_fanout.py --variant BROKERQL_GC_YOUNG_THRESHOLD=700   # and with a setting changed
    python bench/bench_fanout.py --search --quotes 500 --orders 250 --search-max 8000   # highest sustained rate
    python bench/bench_fanout.py --full --workers 2      # the issue's size, one server process per core

In one run, for each project checkout in --roots, then for the bare server:

1. a fresh server subprocess on 127.0.0.1 (SQLite in a temp dir, in-process bus, demo data, the market's
   own tick, tier limits lifted with BROKERQL_RATE_LIMIT_SCALE so six demo users can hold every socket);
2. --procs load-generator processes (bench/fanout_load.py; one Python process cannot read tens of
   thousands of messages a second) open the sockets: quote sockets subscribe `quotes` on 1-3 A-share
   symbols with Level-1 fields (round-robin over the demo users, all real-time views), orderEvents
   sockets follow the demo users' CASH accounts; an order driver in this process places market orders
   at --orders-per-second, open loop (up to 64 in flight; project only);
3. every generator measures the same --seconds window and reports: quote pushes, quote age (receive
   time - asOf), distinct snapshots seen per symbol, order events, their age (receive - `at`) and seq gaps.

Delivered = quote pushes / (sum over sockets of the distinct snapshots of its symbols seen by any
socket in the window): what conflation skipped (latest wins) counts as not delivered. CPU per push is
the server's CPU time in the window / pushes received. The bare server (bench/bare_fanout_server.py)
carries the same quote sockets (and holds the orderEvents sockets idle) at the per-symbol rate measured
on the first project server, with a message captured from it. Everything stops by itself.

With --workers N > 1 both sides run N server processes (bench/deployment.py): brokerql as its scaled
deployment (`serve --workers N` on a scratch PostgreSQL database and Redis, one `brokerql exchange`
process running the market), the bare broadcaster as N uvicorn workers. CPU, memory and open files are
then summed over every process of a side.

--search (bench/fanout_search.py) raises the sockets step by step on each server until a step is not
sustained (under 99% delivered, quote age p99 over 250 ms, an error, or sockets that did not open) and
prints each server's highest sustained push rate and the ratio to bare.
"""

# The driver starts subprocesses and reads paths between its measured phases, never inside one:
# ruff: noqa: ASYNC220, ASYNC240
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_push import Server, free_port, login_all, pct, raise_nofile
from deployment import Served, serve_project
from fanout_search import Steps, report

HERE = Path(__file__).resolve().parent
SYMBOLS = ["600000", "600519", "601318", "000001", "000858", "300750", "688981", "510300", "510050", "IF2612"]
L1 = "symbol last open high low bid ask bidSize askSize volume turnover phase delayed asOf"
QUOTES = f"subscription($s: [String!]!) {{ quotes(symbols: $s) {{ {L1} }} }}"
ORDER_EVENTS = """subscription($a: ID!) { orderEvents(accountId: $a) { __typename
  ... on OrderEvent { seq kind at } ... on Heartbeat { lastSeq } } }"""
IN_FLIGHT = 64  # orders the driver keeps in flight at most
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id } errors { code } } }"


# -- the driver ---------------------------------------------------------------------------------------
async def drive_orders(url: str, tokens: dict[str, str], accounts: dict[str, str], rate: float, out: dict) -> None:
    """Orders at `rate` a second, open loop: each one sent at its time whatever is still in flight (up to
    IN_FLIGHT; beyond, the order is counted as failed), so a slow answer cannot slow the offered load."""
    users, n, in_flight = list(tokens), 0, set()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=IN_FLIGHT)) as http:

        async def place(user: str, side: str) -> None:
            order = {"accountId": accounts[user], "symbol": "600000", "side": side, "type": "MARKET", "quantity": 100}
            t0 = time.monotonic()
            try:
                r = await http.post(url, json={"query": PLACE, "variables": {"i": order}},
                                    headers={"authorization": f"Bearer {tokens[user]}"}, timeout=30)  # fmt: skip
                body = r.json()
                ok = not body.get("errors") and not body["data"]["placeOrder"]["errors"]
                out["placed" if ok else "rejected"] += 1
                out["latency"].append(time.monotonic() - t0)
            except Exception:
                out["failed"] += 1

        next_at = time.monotonic()
        try:
            while True:
                user = users[n % len(users)]
                side = "BUY" if (n // len(users)) % 2 == 0 else "SELL"
                if len(in_flight) < IN_FLIGHT:
                    task = asyncio.create_task(place(user, side))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                else:
                    out["failed"] += 1
                n += 1
                next_at += 1 / rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        finally:
            for task in in_flight:
                task.cancel()


def heap_mib(port: int) -> str:
    """What the server's /metrics says its heap holds (monitor/heap.py): a leak or fragmentation."""
    try:
        page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError as exc:
        return f"(no /metrics: {exc})"
    found = {}
    for line in page.splitlines():
        if line.startswith(("brokerql_malloc_bytes{", "brokerql_python_allocated_blocks ")):
            name, value = line.rsplit(" ", 1)
            found[name.split('"')[1] if '"' in name else "blocks"] = float(value)
    parts = [f"{part} {found[part] / 2**20:.1f}" for part in ("in_use", "free", "arena", "mmapped") if part in found]
    return f"malloc MiB: {', '.join(parts)}; Python blocks {found.get('blocks', 0) / 1e6:.2f}M"


def socket_specs(args: argparse.Namespace, tokens: dict[str, str], accounts: dict[str, str]) -> list[dict]:
    rng, users, specs = random.Random(7), list(tokens), []
    for i in range(args.quotes):
        symbols = rng.sample(SYMBOLS, rng.randint(1, 3))
        specs.append(
            {"kind": "q", "token": tokens[users[i % len(users)]], "query": QUOTES, "variables": {"s": symbols}}
        )
    for i in range(args.orders):
        user = users[i % len(users)]
        specs.append({"kind": "o", "token": tokens[user], "query": ORDER_EVENTS, "variables": {"a": accounts[user]}})
    rng.shuffle(specs)
    return specs


async def load(args: argparse.Namespace, server: Served, specs: list[dict], orders: Any = None) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{server.port}/graphql"
    rss0, idle0, i0 = server.rss_kib(), server.cpu(), time.monotonic()
    await asyncio.sleep(2)  # the server's own work with no socket (the exchange's market ticks)
    idle_pct = (server.cpu() - idle0) / (time.monotonic() - i0) * 100
    procs = []
    for k in range(args.procs):
        mine = specs[k :: args.procs]
        p = subprocess.Popen([sys.executable, str(HERE / "fanout_load.py")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, preexec_fn=raise_nofile)  # fmt: skip
        assert p.stdin and p.stdout
        spec = {"url": url, "sockets": mine, "seconds": args.seconds, "ramp_timeout": args.ramp_timeout}
        p.stdin.write(json.dumps(spec) + "\n")
        p.stdin.flush()
        procs.append(p)
    t0 = time.monotonic()
    ready = [json.loads(await asyncio.to_thread(p.stdout.readline))["ready"] for p in procs]  # type: ignore[union-attr]
    ramp = time.monotonic() - t0
    await asyncio.sleep(args.settle)
    rss1 = server.rss_kib()
    driver = asyncio.create_task(orders()) if orders is not None else None
    await asyncio.sleep(1 if driver else 0)
    cpu0, w0 = server.cpu(), time.monotonic()
    for p in procs:
        p.stdin.write("go\n")  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
    pending = [asyncio.ensure_future(asyncio.to_thread(p.stdout.readline)) for p in procs]  # type: ignore[union-attr]
    samples: list[tuple[float, float, int]] = []  # (seconds, RSS MiB, open files) through the window
    while not all(f.done() for f in pending):
        samples.append((time.monotonic() - w0, server.rss_kib() / 1024, server.open_files()))
        if args.soak:  # as it goes, too: a soak is long, and what it saw so far is worth keeping
            heap = await asyncio.to_thread(heap_mib, server.port)
            print("  sample: {:.0f}s {:.0f}MiB {}fd".format(*samples[-1]), heap, flush=True)
        await asyncio.wait(pending, timeout=args.sample_every)
    results = [json.loads(f.result()) for f in pending]
    window, cpu = time.monotonic() - w0, server.cpu() - cpu0
    if driver is not None:
        driver.cancel()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
    seconds = max(r["seconds"] for r in results)
    seen: dict[str, set[str]] = {}
    for r in results:
        for symbol, keys in r["seen_keys"].items():
            seen.setdefault(symbol, set()).update(keys)
    offered = sum(count * len(seen.get(s, ())) for r in results for s, count in r["subs"].items())
    pushes = sum(r["q"] for r in results)
    q_ages = [a for r in results for a in r["q_ages"]]
    o_ages = [a for r in results for a in r["o_ages"]]
    opened = sum(ready)
    all_pushes = pushes + sum(r["o"] for r in results) + sum(r["hb"] for r in results)
    return {
        "opened": opened,
        "ramp_s": ramp,
        "quote_pps": pushes / seconds,
        "delivered": pushes / max(1, offered),
        "snapshots_per_symbol_s": sum(len(v) for v in seen.values()) / max(1, len(seen)) / seconds,
        # the market's tick: the median symbol (the order driver's trades publish its symbol more often)
        "tick_per_symbol_s": pct([len(v) for v in seen.values()], 0.5) / seconds,
        "q_p50_ms": pct(q_ages, 0.5) * 1000,
        "q_p99_ms": pct(q_ages, 0.99) * 1000,
        "order_pps": sum(r["o"] for r in results) / seconds,
        "beats_per_s": sum(r["hb"] for r in results) / seconds,
        "o_p50_ms": pct(o_ages, 0.5) * 1000,
        "o_p99_ms": pct(o_ages, 0.99) * 1000,
        "seq_gaps": sum(r["gaps"] for r in results),
        "errors": sum(r.get("error_count", 0) for r in results),
        "error_samples": [e for r in results for e in r["errors"]][:5],
        "cpu_pct": cpu / window * 100,
        "idle_cpu_pct": idle_pct,
        "cpu_us_per_push": cpu / max(1, all_pushes) * 1e6,
        # net of what the server burns with no socket at all (the embedded exchange's market)
        "net_us_per_push": max(0.0, cpu - idle_pct / 100 * window) / max(1, all_pushes) * 1e6,
        "gen_cpu_pct": sum(r["gen_cpu"] for r in results) / seconds * 100,
        "kib_per_socket": (rss1 - rss0) / max(1, opened),
        "samples": samples,
        "rss_mib": rss1 / 1024,
    }


def sized(args: argparse.Namespace, quotes: int, orders: int) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "quotes": quotes, "orders": orders})


async def run_project(
    args: argparse.Namespace, root: Path, tmp: Path, extra: dict[str, str] | None = None, steps: Any = None
) -> tuple[list[dict[str, Any]], str]:
    """One server; one load per step (`steps`: fanout_search.Steps, else --quotes + --orders once)."""
    server = await serve_project(root, tmp, args.workers, extra)
    url = f"http://127.0.0.1:{server.port}/graphql"
    try:
        if args.warmup:  # a soak's memory is flat only once the delayed quotes' 15-minute window is full
            # Before logging in: sessions idle through the warm-up would be locked (the idle lock).
            print(f"warming up for {args.warmup:.0f} s before logging in and connecting", flush=True)
            await asyncio.sleep(args.warmup)
        async with httpx.AsyncClient() as http:
            tokens, accounts = await login_all(http, url)
            # one captured frame for the bare server's template
            from websockets.asyncio.client import connect

            async with connect(url.replace("http", "ws"), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
                token = next(iter(tokens.values()))
                await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
                await ws.recv()
                await ws.send(
                    json.dumps(
                        {"id": "1", "type": "subscribe", "payload": {"query": QUOTES, "variables": {"s": ["600000"]}}}
                    )
                )
                template = str(await asyncio.wait_for(ws.recv(), 30))
        results = []
        for quotes, orders in steps or [(args.quotes, args.orders)]:
            stats: dict[str, Any] = {"placed": 0, "rejected": 0, "failed": 0, "latency": []}
            driver = (
                (lambda stats=stats: drive_orders(url, tokens, accounts, args.orders_per_second, stats))
                if args.orders_per_second
                else None
            )
            step = sized(args, quotes, orders)
            result = await load(step, server, socket_specs(step, tokens, accounts), driver)
            result["orders_placed"] = stats["placed"]
            result["orders_rejected"] = stats["rejected"] + stats["failed"]
            result["place_p99_ms"] = pct(stats["latency"], 0.99) * 1000
            results.append(result)
            if steps is not None:
                steps.passed(result)
        return results, template
    finally:
        await server.stop()


async def run_bare(
    args: argparse.Namespace, tmp: Path, template: str, rate: float, steps: Any = None
) -> list[dict[str, Any]]:
    path = tmp / "template.json"
    path.write_text(template, encoding="utf-8")
    port = free_port()
    argv = [sys.executable, str(HERE / "bare_fanout_server.py"), "--port", str(port), "--template", str(path)]
    argv += ["--rate", f"{rate:.3f}", "--workers", str(args.workers)]
    server = Served(await asyncio.to_thread(Server(argv, dict(os.environ), port, tmp / "bare.log").start))
    try:
        tokens = {f"u{i}": "x" for i in range(6)}
        accounts = dict.fromkeys(tokens, "acc")
        results = []
        for quotes, orders in steps or [(args.quotes, args.orders)]:
            step = sized(args, quotes, orders)
            results.append(await load(step, server, socket_specs(step, tokens, accounts)))
            if steps is not None:
                steps.passed(results[-1])
        return results
    finally:
        await server.stop()


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name:<22} opened {r['opened']:>6} in {r['ramp_s']:5.1f}s | quote pushes/s {r['quote_pps']:>8,.0f} "
        f"delivered {r['delivered']:6.1%} of {r['snapshots_per_symbol_s']:.2f}/s a symbol "
        f"(median {r['tick_per_symbol_s']:.2f}), "
        f"age p50/p99 {r['q_p50_ms']:6.0f}/{r['q_p99_ms']:6.0f} ms | "
        f"order events/s {r['order_pps']:6.0f} p50/p99 {r['o_p50_ms']:5.0f}/{r['o_p99_ms']:5.0f} ms "
        f"gaps {r['seq_gaps']}, heartbeats/s {r.get('beats_per_s', 0):5.0f} | "
        f"errors {r['errors']} | CPU {r['cpu_pct']:4.0f}% (idle {r['idle_cpu_pct']:.0f}%) "
        f"{r['cpu_us_per_push']:6.1f} us/push, net of idle {r['net_us_per_push']:6.1f} | "
        f"{r['kib_per_socket']:5.1f} KiB/socket | generators {r['gen_cpu_pct']:4.0f}% CPU",
        flush=True,
    )
    if r.get("orders_placed") is not None:
        print(f"{'':<22} orders placed {r['orders_placed']} (refused/failed {r['orders_rejected']}), "
              f"placeOrder p99 {r['place_p99_ms']:.0f} ms", flush=True)  # fmt: skip
    for sample in r["error_samples"]:
        print(f"{'':<22} error: {sample}")


def servers(args: argparse.Namespace) -> list[tuple[str, Path, dict[str, str]]]:
    """(label, checkout, extra environment): each --roots checkout, then the first one with --variant."""
    found = [(f"brokerql {Path(r).resolve().name}", Path(r).resolve(), {}) for r in args.roots]
    if args.variant:
        extra = dict(item.split("=", 1) for item in args.variant)
        found.append((f"brokerql {found[0][1].name} {' '.join(args.variant)}", found[0][1], extra))
    return found


async def main_async(args: argparse.Namespace) -> None:
    raise_nofile()
    print(f"{args.quotes} quote sockets + {args.orders} orderEvents sockets, {args.procs} generator processes, "
          f"{args.seconds:.0f} s window, load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmpdir:
        tmp = Path(args.logs or tmpdir)
        tmp.mkdir(parents=True, exist_ok=True)
        if args.search:
            return await search(args, tmp)
        results, template, rate = [], "", 0.0
        for name, root, extra in servers(args):
            (result,), captured = await run_project(args, root, tmp, extra)
            template, rate = template or captured, rate or result["snapshots_per_symbol_s"]
            show(name, result)
            results.append((name, result))
        if args.soak:
            for name, r in results:
                print(f"soak {name}: seconds, RSS MiB, open files every {args.sample_every:.0f} s:")
                print("  " + "  ".join(f"{t:.0f}s {m:.0f}MiB {n}fd" for t, m, n in r["samples"]))
            return
        (bare,) = await run_bare(args, tmp, template, rate)
        show("bare broadcast", bare)
        for name, r in results:
            print(
                f"ratio {name}/bare: pushes/s {r['quote_pps'] / max(1, bare['quote_pps']):.2f}x, "
                f"CPU per push {r['cpu_us_per_push'] / max(0.001, bare['cpu_us_per_push']):.2f}x "
                f"(net of idle {r['net_us_per_push'] / max(0.001, bare['net_us_per_push']):.2f}x), "
                f"memory per socket {r['kib_per_socket'] / max(0.1, bare['kib_per_socket']):.2f}x"
            )


async def search(args: argparse.Namespace, tmp: Path) -> None:
    """--search: each server's steps (bench/fanout_search.py), bare's at the rate of brokerql's first step."""

    def steps(name: str) -> Steps:
        return Steps(args.quotes, args.orders, args.search_factor, args.search_max, lambda r: show(name, r))

    found, template, rate = {}, "", 0.0
    for name, root, extra in servers(args):
        found[name] = steps(name)
        print(f"-- {name}: steps from {args.quotes} quote sockets, x{args.search_factor} each", flush=True)
        results, captured = await run_project(args, root, tmp, extra, found[name])
        template, rate = template or captured, rate or results[0]["snapshots_per_symbol_s"]
    print(f"-- bare broadcast at {rate:.2f} snapshots/s per symbol", flush=True)
    bare = steps("bare broadcast")
    await run_bare(args, tmp, template, rate, bare)
    report(found, bare)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quotes", type=int, default=2000, help="quote sockets (1-3 symbols each)")
    parser.add_argument("--orders", type=int, default=1000, help="orderEvents sockets")
    parser.add_argument("--procs", type=int, default=4, help="load-generator processes")
    parser.add_argument("--seconds", type=float, default=10, help="measurement window")
    parser.add_argument("--settle", type=float, default=3, help="seconds after connecting before measuring")
    parser.add_argument("--orders-per-second", type=float, default=10)
    parser.add_argument("--ramp-timeout", type=float, default=180, help="seconds a generator keeps opening sockets")
    parser.add_argument("--roots", nargs="+", default=[str(HERE.parent)], help="project checkouts to serve")
    parser.add_argument(
        "--soak", action="store_true", help="no bare run; print memory and open files through the window"
    )
    parser.add_argument(
        "--warmup", type=float, default=0, help="seconds the server runs before any socket (a soak: 900 or more)"
    )
    parser.add_argument("--sample-every", type=float, default=30, help="seconds between RSS / open-file samples")
    parser.add_argument("--logs", help="keep the servers' logs and databases in this directory")
    parser.add_argument(
        "--workers", type=int, default=1,
        help="server processes a side: >1 runs brokerql on PostgreSQL + Redis with a `brokerql exchange`",
    )  # fmt: skip
    parser.add_argument("--full", action="store_true", help="the issue's size: 12,000 + 6,000 sockets, 8 generators")
    parser.add_argument("--variant", nargs="+", metavar="KEY=VALUE",
                        help="also serve the first checkout with these BROKERQL_ settings (same run)")  # fmt: skip
    parser.add_argument("--search", action="store_true", help="the highest sustained push rate of each server")
    parser.add_argument("--search-factor", type=float, default=1.5, help="sockets grow by this a search step")
    parser.add_argument("--search-max", type=int, default=8000, help="quote sockets of the largest search step")
    args = parser.parse_args()
    if args.full:
        args.quotes, args.orders, args.procs, args.orders_per_second = 12_000, 6_000, 8, 100
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
