"""The order path (issue 14, target 3): placeOrder over HTTP from many clients vs raw durable commits.

    python bench/bench_order_path.py [--backend sqlite|postgres|both] [--full] [--roots /work/main .]

For each backend, in one run: a fresh `brokerql serve` subprocess on 127.0.0.1 (SQLite file in a temp
dir with the in-process bus; or a new PostgreSQL database on 127.0.0.1:5432 with Redis on :6379 under
a fresh key prefix, when they answer), demo data, tier limits lifted through BROKERQL_RATE_LIMIT_SCALE
only. The admin creates --clients GOLD clients through the back-office API (risk level C4, a CASH
account with 100,000,000 CNY), each logs in. Then, from --procs generator processes
(`bench/order_path_load.py`), each client holding an `orderEvents` subscription on its account:

1. full speed: every client places MARKET buys of 100 shares (main-board stocks and ETFs, round-robin)
   back to back on its own keep-alive connection for --seconds: sustained accepted orders/s. Market
   orders fill at once against the simulated book, so each one takes the whole path: admission and
   commit (acknowledged), outbox relay, bus, exchange, the booking transaction, relay, FILL push;
2. once the server's backlog has drained (its CPU back near idle), the baseline: raw durable
   single-row commits for --baseline-seconds with the server's durability settings (SQLite: a file of
   its own beside the server's, WAL, synchronous=FULL, BEGIN IMMEDIATE, one connection since SQLite
   has one writer; PostgreSQL: a scratch table in the server's database, BEGIN + INSERT + COMMIT from
   as many connections as the server held during phase 1, read from pg_stat_activity); prints
   commits/s and orders/s / commits/s. Also the whole CPU cost of an order ("cycle"): the server's CPU
   from the window's start until the backlog drained, less the idle simulator's, per accepted order
   (the window's own figure undercounts it when the fills fall behind);
3. half that rate, open loop (each order sent at its scheduled time): p50/p99 acknowledgement and
   order-to-FILL push latency;
4. with --rates R ..., each fixed offered rate in turn (open loop), once the backlog has drained: the
   same latencies and the CPU an order net of idle. A server that groups its work (placements,
   bookings, commits) spends more CPU an order when fewer orders wait, so at half its full-speed rate
   it is still near saturation; these show the latency at loads it is not saturated by.

Then, per backend, the floor of this stack (bench/bare_order_server.py): bare strawberry that answers
the same `placeOrder` after one durable commit and pushes ACCEPTED + FILL to the account's
`orderEvents`, under the same phases 1 and 3; the summary prints orders/s and CPU per order against it.
The raw-commit ratio is the issue's yardstick; the floor says how much of the gap is the stack's own
(HTTP, GraphQL, Python) and how much is BrokerQL's.

Stops by itself; the servers, generator processes, the PostgreSQL database and the Redis keys it made
are removed at the end. Default size runs in about a minute per backend; --full is the issue's size.
With --roots, each checkout (served from its own .venv) runs the three phases in turn, in the same run.
With --workers N > 1, PostgreSQL's server is the scaled deployment (bench/deployment.py: `serve --workers
N` and one `brokerql exchange` process, so the placements and the exchange's chain run on separate event
loops); its CPU is then every process's. SQLite and the floor stay one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_push import Server, free_port, pct, project_env, raise_nofile
from deployment import REDIS, Served, backends_up, database_dsn, pg_connections, scratch_database, serve_project
from order_path_report import show, summary

HERE = Path(__file__).resolve().parent
LOAD = HERE / "order_path_load.py"
PASSWORD = "Bench#2026"


def server_for(root: Path, backend: str, tmp: Path, database_url: str, prefix: str) -> Server:
    port = free_port()
    env = project_env(port, database_url, BROKERQL_MARKET_WARMUP_STEPS="20")
    if backend == "postgres":
        env.update(BROKERQL_REDIS_URL=REDIS, BROKERQL_REDIS_PREFIX=prefix)
    # The checkout's own code, whatever the working directory: no cwd on sys.path, the root first.
    env.update(PYTHONSAFEPATH="1", PYTHONPATH=str(root))
    argv = [str(root / ".venv/bin/python"), "-m", "brokerql.cli", "serve"]
    return Server(argv, env, port, tmp / f"serve-{backend}-{prefix}.log")


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer = (await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
    if answer.get("errors"):
        raise RuntimeError(answer["errors"])
    data = answer["data"]
    payload = next(iter(data.values()))
    if isinstance(payload, dict) and payload.get("errors"):
        raise RuntimeError(payload["errors"])
    return payload


async def make_clients(port: int, n: int, tag: str) -> list[dict[str, str]]:
    """n funded GOLD clients (risk level C4, so main boards and ETFs need no acknowledgement), logged in."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        login = "mutation($u: String!, $p: String!) { operatorLogin(input: {username: $u, password: $p}) "
        admin = await gql(http, login + "{ accessToken errors { code } } }", {"u": "admin", "p": "Admin#2026"})
        token = admin["accessToken"]

        async def one(i: int) -> dict[str, str]:
            user = f"bench{tag}{i:04d}"
            create = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } errors { code } } }"
            made = await gql(http, create, {"i": {"username": user, "name": f"Bench {i}", "tier": "GOLD",
                                                 "password": PASSWORD}}, token)  # fmt: skip
            client_id = made["client"]["id"]
            update = "mutation($c: ID!, $i: UpdateClientInput!) { updateClient(clientId: $c, input: $i) "
            update += "{ errors { code } } }"
            await gql(http, update, {"c": client_id, "i": {"riskLevel": "C4"}}, token)
            opening = "mutation($i: OpenAccountInput!) { openAccount(input: $i) { account { id } errors { code } } }"
            deposit = {"clientId": client_id, "type": "CASH", "openingDeposit": "100000000"}
            account = (await gql(http, opening, {"i": deposit}, token))["account"]["id"]
            client_login = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) "
            logged = await gql(http, client_login + "{ accessToken errors { code } } }", {"u": user, "p": PASSWORD})
            return {"token": logged["accessToken"], "account": account}

        clients: list[dict[str, str]] = []
        for start in range(0, n, 8):
            clients += await asyncio.gather(*(one(i) for i in range(start, min(n, start + 8))))
        return clients


def spawn(kind: str, spec: dict[str, Any]) -> subprocess.Popen[str]:
    """A generator or baseline process; its spec (tokens included) goes through stdin, not argv."""
    proc = subprocess.Popen(
        [sys.executable, str(LOAD), kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        preexec_fn=raise_nofile,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(spec) + "\n")  # one line: communicate() closes stdin later
    proc.stdin.flush()
    return proc


async def collect(procs: list[subprocess.Popen[str]], timeout: float) -> list[dict[str, Any]]:
    results = []
    for proc in procs:
        try:
            out, _ = await asyncio.to_thread(proc.communicate, None, timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        results.append(json.loads(out))
    return results


async def load_phase(
    args: argparse.Namespace, server: Served, clients: list[dict[str, str]], mode: str, rate: float, database: str
) -> dict[str, Any]:
    start_at = time.time() + 3 + len(clients) * 0.02  # every subscription open before the first order
    stop_at = start_at + args.seconds
    groups = [clients[k :: args.procs] for k in range(args.procs)]
    spec = {"port": server.port, "mode": mode, "rate": rate / args.procs, "start_at": start_at, "stop_at": stop_at}
    procs = [spawn("orders", {**spec, "clients": group, "drain": args.drain}) for group in groups]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu0, wall0, connections = server.cpu(), time.monotonic(), 0
    while time.time() < stop_at:
        if database:  # the server's pool, for the baseline's connection count
            connections = max(connections, await pg_connections(database))
        await asyncio.sleep(0.5)
    cpu = server.cpu() - cpu0
    load = os.getloadavg()[0]
    results = await collect(procs, args.seconds + args.drain + 90)
    rejected: dict[str, int] = {}
    for r in results:
        for code, k in r["rejected"].items():
            rejected[code] = rejected.get(code, 0) + k
    ack = [x for r in results for x in r["ack"]]
    fill = [x for r in results for x in r["fill"]]
    ok = sum(r["ok"] for r in results)
    return {
        "orders_per_s": ok / args.seconds, "offered_per_s": rate, "ok": ok, "rejected": rejected,
        "failed": sum(r["failed"] for r in results), "errors": [e for r in results for e in r["errors"]][:5],
        "fills_per_s": sum(r["fills_in_window"] for r in results) / args.seconds,
        "unfilled": sum(r["unfilled"] for r in results),
        "ack_p50": pct(ack, 0.5) * 1000, "ack_p99": pct(ack, 0.99) * 1000,
        "fill_p50": pct(fill, 0.5) * 1000, "fill_p99": pct(fill, 0.99) * 1000, "fill_n": len(fill),
        "server_cpu": cpu / args.seconds * 100, "cpu_ms_per_order": cpu / max(1, ok) * 1000,
        "load": load, "pg_connections": connections, "cpu_at_start": cpu0, "wall_at_start": wall0,
    }  # fmt: skip


async def settle(server: Served, idle_pct: float, limit: float = 60) -> float:
    """Seconds until the server's CPU over one second is back under idle + 10% (what phase 1 queued,
    bookings and pushes, is done), at most `limit`."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        cpu0 = server.cpu()
        await asyncio.sleep(1)
        if (server.cpu() - cpu0) * 100 < idle_pct + 10:
            break
    return time.monotonic() - started


async def baseline(args: argparse.Namespace, backend: str, where: str, connections: int) -> dict[str, Any]:
    start_at = time.time() + 2
    spec: dict[str, Any] = {"start_at": start_at, "stop_at": start_at + args.baseline_seconds}
    if backend == "sqlite":
        spec["path"] = where
    else:
        spec.update(dsn=where, connections=connections, table=f"bench_commit_scratch_{secrets.token_hex(3)}")
    result = (await collect([spawn("commits", spec)], args.baseline_seconds + 60))[0]
    result["commits_per_s"] = result["commits"] / args.baseline_seconds
    result["load"] = os.getloadavg()[0]
    return result


async def start(args: argparse.Namespace, backend: str, tmp: Path, root: Path) -> tuple[Served, str, str]:
    """One checkout's server (as `make serve` runs it, or with --workers N on PostgreSQL its scaled
    deployment), where the baseline commits, and the PostgreSQL database's name ("" on SQLite)."""
    tag = secrets.token_hex(3)
    if backend == "sqlite":
        # The baseline's own file beside the server's: the server's writer (still booking what phase 1
        # left) would otherwise hold the one SQLite write lock and the baseline would measure that.
        server = server_for(root, backend, tmp, f"sqlite+aiosqlite:///{tmp / f'orders-{tag}.db'}", tag)
        return Served(await asyncio.to_thread(server.start)), str(tmp / f"baseline-{tag}.db"), ""
    if args.workers > 1:  # API processes and one `brokerql exchange`: placements and fills on separate loops
        served = await serve_project(root, tmp, args.workers, {"BROKERQL_MARKET_WARMUP_STEPS": "20"})
        return served, database_dsn(served.database), served.database
    database = f"bench_orderpath_{tag}"
    where = await scratch_database(database)
    url = where.replace("postgresql://", "postgresql+asyncpg://")
    server = server_for(root, backend, tmp, url, f"bench-{database}")
    served = Served(server, database=database)  # its stop() drops the database and the Redis prefix
    try:
        await asyncio.to_thread(server.start)
    except BaseException:
        await served.stop()
        raise
    return served, where, database


async def run_backend(args: argparse.Namespace, backend: str, tmp: Path, root: Path) -> dict[str, Any]:
    server, where, database = await start(args, backend, tmp, root)
    tag = secrets.token_hex(3)
    try:
        clients = await make_clients(server.port, args.clients, tag)
        cpu0 = server.cpu()
        await asyncio.sleep(3)
        idle = (server.cpu() - cpu0) / 3 * 100
        print(f"  idle (the market simulator, no orders): server CPU {idle:.0f}%", flush=True)
        print(f"{backend}, {root.name}: {len(clients)} clients, {args.procs} processes, {args.seconds:.0f} s a phase",
              flush=True)  # fmt: skip
        full = await load_phase(args, server, clients, "full", 0.0, database)
        show("full speed", full)
        # As many as the server held, within what PostgreSQL's 100 connections leave beside the server's
        # own (still open): a scaled deployment holds 70 or more.
        connections = max(1, min(full["pg_connections"], 95 - full["pg_connections"]))
        settled = await settle(server, idle)
        print(f"  the server's backlog took {settled:.1f} s to drain (CPU back near idle)", flush=True)
        # The whole of each order's work (placement, exchange, booking, relay, pushes), which the window
        # alone undercounts when the fills fall behind: CPU from the window's start until the backlog
        # drained, less the idle simulator's share, per accepted order.
        elapsed = time.monotonic() - full["wall_at_start"]
        cycle_cpu = server.cpu() - full["cpu_at_start"] - idle / 100 * elapsed
        full["cycle_ms_per_order"] = cycle_cpu / max(1, full["ok"]) * 1000
        print(f"  window + drain: {full['cycle_ms_per_order']:.1f} ms of server CPU an order, net of idle", flush=True)
        base = await baseline(args, backend, where, connections)
        print(f"  raw commits: {base['commits_per_s']:,.1f}/s from {base['connections']} connection(s), "
              f"{base['settings']}; load average {base['load']:.2f}", flush=True)  # fmt: skip
        half = await load_phase(args, server, clients, "rate", full["orders_per_s"] / 2, "")
        show("half rate", half)
        ratio = full["orders_per_s"] / max(1e-9, base["commits_per_s"])
        print(f"  ratio orders/s / raw commits/s: {ratio:.2f}x", flush=True)
        fixed = []
        for rate in args.rates:  # what a client sees at a load the server is not saturated by
            await settle(server, idle)
            r = await load_phase(args, server, clients, "rate", rate, "")
            r["net_ms_per_order"] = (r["server_cpu"] - idle) / 100 * args.seconds / max(1, r["ok"]) * 1000
            show(f"at {rate:g}/s ({r['net_ms_per_order']:.1f} ms net of idle)", r)
            fixed.append(r)
        name = backend if len(args.roots) == 1 else f"{backend} {root.name}"
        return {"backend": name, "full": full, "base": base, "half": half, "ratio": ratio, "idle": idle, "fixed": fixed}
    finally:
        await server.stop()


async def run_bare(args: argparse.Namespace, backend: str, tmp: Path) -> dict[str, Any]:
    """The floor on the same backend (bench/bare_order_server.py): HTTP, GraphQL and one durable commit
    an order, pushed to the account's subscription; the same load phases as the project's."""
    tag = secrets.token_hex(3)
    argv = [sys.executable, str(HERE / "bare_order_server.py"), "--port", str(port := free_port())]
    database = ""
    if backend == "sqlite":
        argv += ["--sqlite", str(tmp / f"bare-{tag}.db")]
    else:
        database = f"bench_bareorders_{tag}"
        argv += ["--postgres", await scratch_database(database)]
    server = Served(Server(argv, dict(os.environ), port, tmp / f"bare-{backend}-{tag}.log"), database=database)
    try:
        server.server.start()
        clients = [{"token": "bare", "account": f"acc-{i}"} for i in range(args.clients)]
        print(f"{backend}, bare strawberry + one commit an order: {len(clients)} clients", flush=True)
        full = await load_phase(args, server, clients, "full", 0.0, "")
        show("full speed", full)
        half = await load_phase(args, server, clients, "rate", full["orders_per_s"] / 2, "")
        show("half rate", half)
        return {"full": full, "half": half}
    finally:
        await server.stop()


async def main_async(args: argparse.Namespace, backends: list[str]) -> None:
    raise_nofile()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-orderpath-") as tmpdir:
        for backend in backends:
            for root in args.roots:  # checkouts compared in the same run, one after the other
                rows.append(await run_backend(args, backend, Path(tmpdir), root))
        floors = {backend: await run_bare(args, backend, Path(tmpdir)) for backend in backends}
    summary(rows, " ".join(["python", *sys.argv]))
    for r in rows:
        floor = floors[r["backend"].split()[0]]["full"]
        ratio = r["full"]["orders_per_s"] / max(1e-9, floor["orders_per_s"])
        cpu = r["full"]["cpu_ms_per_order"] / max(1e-9, floor["cpu_ms_per_order"])
        print(f"{r['backend']}: orders/s {ratio:.2f}x bare strawberry + one commit ({floor['orders_per_s']:,.0f}/s), "
              f"CPU per order {cpu:.2f}x ({floor['cpu_ms_per_order']:.2f} ms)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--full", action="store_true", help="the issue's size: 128 clients, 4 processes, 30 s")
    parser.add_argument("--clients", type=int, help="clients (accounts), each with its own connection (default 32)")
    parser.add_argument("--procs", type=int, help="load-generator processes (default 2)")
    parser.add_argument("--seconds", type=float, help="each load phase's window (default 10)")
    parser.add_argument("--baseline-seconds", type=float, help="the raw-commit window (default 5)")
    parser.add_argument("--drain", type=float, default=5, help="seconds to wait for the last FILL events")
    parser.add_argument("--roots", nargs="+", default=[str(HERE.parent)], help="project checkouts to serve, in turn")
    parser.add_argument("--workers", type=int, default=1, help="PostgreSQL: N API processes + one `brokerql exchange`")
    parser.add_argument("--rates", type=float, nargs="*", default=[],
                        help="after phase 3, offered rates (orders/s, open loop): latency and CPU at each")  # fmt: skip
    args = parser.parse_args()
    size = (128, 4, 30.0, 10.0) if args.full else (32, 2, 10.0, 5.0)
    for name, value in zip(("clients", "procs", "seconds", "baseline_seconds"), size, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.roots = [Path(root).resolve() for root in args.roots]
    asyncio.run(main_async(args, backends_up(args.backend)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
