"""The query path: authenticated `quote(symbol)` over HTTP on `brokerql serve` vs bare strawberry.

    python bench/bench_query_path.py [--connections 64] [--procs 2] [--seconds 10] [--roots /work/main .]
                                     [--generator auto|wrk|python] [--workers N]

In one run, for each project checkout in --roots and then for bench/bare_query_server.py (strawberry
with ParserCache + ValidationCache, the same query shape, no auth or database): a fresh server
subprocess on 127.0.0.1; the load holds --connections keep-alive HTTP/1.1 connections and posts the
query back to back for --seconds. The load comes from wrk (`-t<procs> -c<connections>`, Debian's
package `wrk`) when it is installed, else from --procs processes of this file's minimal asyncio client
(--worker; one Python process with httpx could not load a server). wrk is the issue's yardstick and
costs the shared cores far less, so its figures are the ones to compare with the target; wrk reads
the status only (each server's answer is checked once before its run). With --workers N > 1 both sides
run N server processes: brokerql as its scaled deployment (`serve --workers N` on a scratch PostgreSQL
database and Redis prefix, with one `brokerql exchange` process, all dropped at the end), bare strawberry
as uvicorn workers; server CPU is then every process of a side. The project runs with every
production extension (auth, entitlements, operation limits and cost, quotas, metrics), logged in as
gold001; its tier limits are lifted for the benchmark only (BROKERQL_RATE_LIMIT_SCALE), else most
requests would be 429s. Prints requests/s, p50/p99 latency, non-200 answers, server CPU, and the ratio.
"""

# The driver starts subprocesses between its measured phases, never inside one:
# ruff: noqa: ASYNC220, ASYNC240
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_push import Server, free_port, pct, raise_nofile
from deployment import Served, all_workers_up, serve_project

HERE = Path(__file__).resolve().parent
QUERY = """query Q($s: String!) { quote(symbol: $s) {
  symbol last open high low bid ask bidSize askSize volume turnover delayed asOf } }"""


async def worker(spec: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps({"query": QUERY, "variables": {"s": "600000"}}).encode()
    head = "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\n"
    if spec.get("token"):
        head += f"Authorization: Bearer {spec['token']}\r\n"
    request = head.encode() + b"\r\n" + body
    stats: dict[str, Any] = {"ok": 0, "other": {}, "lat": [], "errors": 0}
    stop_at = time.monotonic() + spec["seconds"]

    async def one_connection() -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", spec["port"])
            while time.monotonic() < stop_at:
                t0 = time.monotonic()
                writer.write(request)
                status = (await reader.readline()).split(b" ", 2)[1].decode()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                answer = await reader.readexactly(length)
                stats["lat"].append(time.monotonic() - t0)
                if status == "200" and b'"errors"' not in answer:
                    stats["ok"] += 1
                else:
                    stats["other"][status] = stats["other"].get(status, 0) + 1
            writer.close()
        except Exception:
            stats["errors"] += 1

    await asyncio.gather(*(one_connection() for _ in range(spec["connections"])))
    return stats


def bare_query_server(tmp: Path, workers: int) -> Served:
    port = free_port()
    argv = [sys.executable, str(HERE / "bare_query_server.py"), "--port", str(port), "--workers", str(workers)]
    served = Served(Server(argv, dict(os.environ), port, tmp / "bare-query.log").start())
    if workers > 1:
        all_workers_up(served.server.log, workers)  # as for brokerql's workers
    return served


async def measure(args: argparse.Namespace, server: Served, token: str | None) -> dict[str, Any]:
    per = [args.connections // args.procs + (1 if k < args.connections % args.procs else 0) for k in range(args.procs)]
    spec = {"port": server.port, "token": token, "seconds": args.seconds}
    cpu0, t0 = server.cpu(), time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", json.dumps({**spec, "connections": n})],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=raise_nofile,
        )
        for n in per
    ]
    results = [json.loads((await asyncio.to_thread(p.communicate, None, args.seconds + 60))[0]) for p in procs]
    window, cpu = time.monotonic() - t0, server.cpu() - cpu0
    lat = [x for r in results for x in r["lat"]]
    other: dict[str, int] = {}
    for r in results:
        for status, n in r["other"].items():
            other[status] = other.get(status, 0) + n
    ok = sum(r["ok"] for r in results)
    return {
        "rps": ok / args.seconds,
        "p50_ms": pct(lat, 0.5) * 1000,
        "p99_ms": pct(lat, 0.99) * 1000,
        "not_ok": other,
        "conn_errors": sum(r["errors"] for r in results),
        "cpu_pct": cpu / window * 100,
        "cpu_ms_per_request": cpu / max(1, ok) * 1000,
    }


WRK_SCRIPT = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{auth}
"""


def wrk_ms(text: str) -> float:
    """wrk's latency figure ("812.00us", "12.34ms", "1.02s") in milliseconds."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


async def measure_wrk(args: argparse.Namespace, server: Served, token: str | None, tmp: Path) -> dict[str, Any]:
    """The same load from wrk (C, one thread per generator process): the issue's own yardstick."""
    body = json.dumps({"query": QUERY, "variables": {"s": "600000"}})
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    script = tmp / "query.lua"
    script.write_text(WRK_SCRIPT.format(body=json.dumps(body), auth=auth))
    argv = ["wrk", f"-t{args.procs}", f"-c{args.connections}", f"-d{args.seconds:.0f}s", "--latency", "-s",
            str(script), f"http://127.0.0.1:{server.port}/graphql"]  # fmt: skip
    cpu0, t0 = server.cpu(), time.monotonic()
    out = (await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, check=True)).stdout
    window, cpu = time.monotonic() - t0, server.cpu() - cpu0
    figures: dict[str, Any] = {"non-2xx": 0, "socket errors": 0}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in ("50%", "99%"):
            figures[words[0]] = wrk_ms(words[1])
        elif " requests in " in line:
            figures["requests"] = int(words[0])
        elif line.strip().startswith("Non-2xx"):
            figures["non-2xx"] = int(words[-1])
        elif line.strip().startswith("Socket errors"):
            figures["socket errors"] = sum(int(w.strip(",")) for w in words[3::2])
    ok = figures["requests"] - figures["non-2xx"]
    return {
        "rps": ok / args.seconds,
        "p50_ms": figures["50%"],
        "p99_ms": figures["99%"],
        "not_ok": {"non-2xx": figures["non-2xx"]} if figures["non-2xx"] else {},
        "conn_errors": figures["socket errors"],
        "cpu_pct": cpu / window * 100,
        "cpu_ms_per_request": cpu / max(1, ok) * 1000,
    }


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name:<20} {r['rps']:8,.0f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
        f"server CPU {r['cpu_pct']:4.0f}% ({r['cpu_ms_per_request']:.2f} ms/request)  "
        f"not ok {r['not_ok'] or 0}  connection errors {r['conn_errors']}",
        flush=True,
    )


async def main_async(args: argparse.Namespace) -> None:
    raise_nofile()
    args.wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk") is not None)
    print(f"{'wrk' if args.wrk else 'Python client'}: {args.connections} connections from {args.procs} "
          f"{'threads' if args.wrk else 'processes'}, {args.seconds:.0f} s, "
          f"{args.workers} server process(es) a side, load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmpdir:
        tmp, results = Path(tmpdir), []
        for root in args.roots:
            name = Path(root).resolve().name
            server = await serve_project(Path(root).resolve(), tmp, args.workers)
            try:
                async with httpx.AsyncClient() as http:
                    login = 'mutation { login(input: {username: "gold001", password: "Demo#2026"}) { accessToken } }'
                    answer = await http.post(f"http://127.0.0.1:{server.port}/graphql", json={"query": login})
                    token = answer.json()["data"]["login"]["accessToken"]
                    check = await http.post(f"http://127.0.0.1:{server.port}/graphql",
                                            json={"query": QUERY, "variables": {"s": "600000"}},
                                            headers={"authorization": f"Bearer {token}"})  # fmt: skip
                    assert "errors" not in check.json(), check.text
                result = await (measure_wrk(args, server, token, tmp) if args.wrk else measure(args, server, token))
            finally:
                await server.stop()
            show(f"brokerql {name}", result)
            results.append((name, result))
        bare = bare_query_server(tmp, args.workers)
        try:
            floor = await (measure_wrk(args, bare, None, tmp) if args.wrk else measure(args, bare, None))
        finally:
            await bare.stop()
        show("bare strawberry", floor)
        for name, r in results:
            cpu_ratio = r["cpu_ms_per_request"] / max(1e-6, floor["cpu_ms_per_request"])
            ratio = r["rps"] / max(1, floor["rps"])
            print(f"ratio {name}/bare: requests/s {ratio:.2f}x, CPU per request {cpu_ratio:.2f}x")


def main() -> int:
    if "--worker" in sys.argv:
        spec = json.loads(sys.argv[sys.argv.index("--worker") + 1])
        print(json.dumps(asyncio.run(worker(spec))), flush=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--procs", type=int, default=2, help="load-generator processes (wrk: threads)")
    parser.add_argument(
        "--generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="wrk (Debian's package; auto when installed) or this file's minimal asyncio client",
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes a side: >1 runs brokerql on PostgreSQL + Redis with a `brokerql exchange`",
    )
    parser.add_argument("--roots", nargs="+", default=[str(HERE.parent)], help="project checkouts to serve")
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
