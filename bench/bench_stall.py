"""How long the event loop stalls while abusive documents arrive (E1: one request must not stall everyone).

Two measurements, for each scenario against a baseline with no attack:

- probe (`--mode probe`): starts `brokerql serve` as its own process (SQLite, in-process bus, demo data),
  probes GET /healthz every 20 ms for `--seconds` while `--attackers` concurrent clients (in a process of
  their own; `--same-process` puts them on the probe's event loop, as the first rounds did) post the
  scenario's document again and again, and prints the probe latency (p50, p99, max) with the ratio of
  the p99s. This is what a client sees, so it includes the attackers' queueing and the OS scheduler.
- loop (`--mode loop`): the app in this process (ASGI, no sockets), a task that sleeps 1 ms again and
  again and records how late it wakes: the event loop's own lag, i.e. the longest stretch that request
  handling held the loop without yielding. The attackers post pre-encoded bodies, so their client's own
  work is a few microseconds a request.

Scenarios: the documents of issue 13 (212 KiB of 5,000 fragment spreads; 50,000 duplicate fields) and
the largest documents the limits let through to the parser (just under the body and token limits).

    python bench/bench_stall.py [--seconds 5] [--attackers 1] [--mode both] [--brokerql PATH]

`--brokerql` runs another build's `brokerql` executable (e.g. an older checkout's venv) for a before/after
of the probe measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "brokerql"
DEVNULL = open(os.devnull, "w")  # noqa: SIM115 - the log stream of the in-process app, for the whole run


def fragment_bomb() -> str:  # issue 13: 5,000 spreads of one fragment, about 212 KiB
    return (
        "query { "
        + " ".join(f"...F{i}" for i in range(5000))
        + " } "
        + " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(5000))[: 212 * 1024]
    )


def duplicate_fields() -> str:  # issue 13: 50,000 duplicate fields
    return "query { " + "__typename " * 50_000 + "}"


def near_the_limits() -> str:  # under 64 KiB: parsed up to the token limit, then refused
    return "query { " + " ".join("...F" for _ in range(12_000)) + " } fragment F on Query { __typename }"


def duplicates_under_the_token_limit() -> str:  # parsed in full, refused by the duplicate-field limit
    return "query { " + "__typename " * 1_990 + "}"


def fragments(count: int) -> str:  # under every limit: parsed, measured, cost-estimated and validated
    spreads = " ".join(f"...F{i}" for i in range(count))
    body = " ".join(
        f"fragment F{i} on Query {{ tiers {{ code name rank entitlements limits {{ __typename }} }} }}"
        for i in range(count)
    )
    return f"query Many {{ {spreads} }} {body}"


def fragments_at_the_pair_limit() -> str:  # 14 x `tiers { code }`: 182 field pairs, under 200: validated
    spreads = " ".join(f"...F{i}" for i in range(14))
    return f"query At {{ {spreads} }} " + " ".join(f"fragment F{i} on Query {{ tiers {{ code }} }}" for i in range(14))


SCENARIOS = {
    "baseline (no attack)": None,
    "an ordinary query (reference)": "query Tiers { tiers { code name } }",
    "fragment bomb, 212 KiB": fragment_bomb(),
    "50,000 duplicate fields": duplicate_fields(),
    "64 KiB of spreads (token limit)": near_the_limits(),
    "1,990 duplicate fields (prescan)": duplicates_under_the_token_limit(),
    "40 fragments of one field, 3.6 KiB": fragments(40),
    "14 fragments of one field (at limit)": fragments_at_the_pair_limit(),
}


def unique(document: str, n: int) -> str:
    """The document with a comment of its own, so that no cache (parse, prescan, validation: keyed by
    the text) answers for it: an attacker varies each document, so the bench does too."""
    return f"{document}\n# {n}"


def json_prefix(document: str) -> bytes:
    """The JSON body up to the end of the query text, so a unique body is one concatenation away."""
    return json.dumps({"query": document}).encode()[: -len(b'"}')]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def probe(client: httpx.AsyncClient, seconds: float) -> list[float]:
    waits: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        response = await client.get("/healthz")
        waits.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        await asyncio.sleep(0.02)
    return waits


async def attack(client: httpx.AsyncClient, document: str, stop: asyncio.Event, sent: list[int]) -> None:
    while not stop.is_set():
        response = await client.post("/graphql", json={"query": unique(document, sent[0])})
        assert response.status_code < 500, response.text
        sent[0] += 1


async def scenario(
    base: str, name: str, document: str | None, seconds: float, attackers: int, same_process: bool
) -> tuple[list[float], int]:
    if same_process or document is None:
        return await _scenario_in_process(base, document, seconds, attackers)
    # The attackers in a process of their own: the probe then measures the server, not also the
    # attackers' client work (encoding 550 KB bodies) on the probe's own event loop.
    argv = [sys.executable, __file__, "--attack", base, name, str(attackers)]
    attacker = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220 - before the window
    try:
        assert attacker.stdout is not None
        await asyncio.to_thread(attacker.stdout.readline)  # "ready": its client is set up
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            waits = await probe(client, seconds)
    finally:
        attacker.terminate()
    out, _ = await asyncio.to_thread(attacker.communicate, None, 30)
    return waits, int(out.split()[-1])


async def _scenario_in_process(
    base: str, document: str | None, seconds: float, attackers: int
) -> tuple[list[float], int]:
    limits = httpx.Limits(max_connections=attackers + 2)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        stop, sent = asyncio.Event(), [0]
        tasks = [asyncio.create_task(attack(client, document, stop, sent)) for _ in range(attackers if document else 0)]
        await asyncio.sleep(0.5 if document else 0)
        waits = await probe(client, seconds)
        stop.set()
        await asyncio.gather(*tasks)
        return waits, sent[0]


async def attack_process(base: str, name: str, attackers: int) -> None:
    """`--attack`: post the scenario's document until SIGTERM, then print how many were sent."""
    import signal

    document, stop, sent = SCENARIOS[name], asyncio.Event(), [0]
    assert document is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    limits = httpx.Limits(max_connections=attackers)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        print("ready", flush=True)
        tasks = [asyncio.create_task(attack(client, document, stop, sent)) for _ in range(attackers)]
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(sent[0], flush=True)


def p99_of(values: list[float]) -> float:
    return percentile(values, 99)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: a value that was observed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def run(port: int, seconds: float, attackers: int, same_process: bool) -> None:
    base = f"http://127.0.0.1:{port}"
    baseline_p99 = None
    print(f"{'scenario':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p99/base':>9} {'docs sent':>10}")
    for name, document in SCENARIOS.items():
        waits, sent = await scenario(base, name, document, seconds, attackers, same_process)
        p50, p99 = statistics.median(waits), percentile(waits, 99)
        baseline_p99 = baseline_p99 or p99
        print(f"{name:34} {p50:8.1f} {p99:8.1f} {max(waits):8.1f} {p99 / baseline_p99:9.1f} {sent:10d}")


async def lag_while(seconds: float) -> tuple[list[float], list[float]]:
    """How late (ms) a task asking to sleep 1 ms wakes, again and again for `seconds`; and how much CPU
    the loop's thread spent meanwhile (ms): the part of the lag that other work on the loop caused, not
    the OS running other processes (this machine is shared) or a worker thread holding the GIL."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    busy: list[float] = []
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        started, cpu = time.perf_counter(), time.thread_time()
        await asyncio.sleep(0.001)
        lags.append(max(0.0, (time.perf_counter() - started) * 1000 - 1))
        busy.append((time.thread_time() - cpu) * 1000)
    return lags, busy


async def post_again(client: httpx.AsyncClient, prefix: bytes, stop: asyncio.Event, sent: list[int]) -> None:
    headers = {"content-type": "application/json"}
    while not stop.is_set():
        body = prefix + b"\\n# " + str(sent[0]).encode() + b'"}'  # unique, as in `unique`
        response = await client.post("/graphql", content=body, headers=headers)
        assert response.status_code < 500, response.text
        sent[0] += 1
        # In process nothing waits on a socket, so a request refused without I/O never suspends: yield
        # once per request, as a served connection does when it reads the next one.
        await asyncio.sleep(0)


async def loop_lag(seconds: float, attackers: int, tmp: Path) -> None:
    from brokerql.api.app import create_app
    from brokerql.logs import configure_logging
    from brokerql.settings import load_settings
    from brokerql.store.migrate import upgrade_async

    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'loop.db'}",
        secret_key="bench-secret-key-0123456789-abcdefghijkl",
        rate_limit_scale=100000,  # the attackers are measured, not rate limited
        log_format="json",
    )
    configure_logging(settings, stream=DEVNULL)  # refusals are logged, as when served
    await upgrade_async(settings.database_url)
    app = create_app(settings, freeze_heap=True)  # as `brokerql serve` does
    print(f"event-loop lag in process (ms late waking from a 1 ms sleep), {attackers} attacker(s)")
    print("lag: wall clock; cpu: the loop thread's CPU time meanwhile (what request handling held it for)")
    print(f"{'scenario':36} {'lag p50':>8} {'p99':>7} {'max':>7} {'cpu p50':>8} {'p99':>6} {'max':>6} {'docs':>6}")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
            for name, document in SCENARIOS.items():
                body = json_prefix(document) if document else b""
                stop, sent = asyncio.Event(), [0]
                tasks = [
                    asyncio.create_task(post_again(client, body, stop, sent)) for _ in range(attackers if body else 0)
                ]
                await asyncio.sleep(0.5 if body else 0)
                lags, busy = await lag_while(seconds)
                stop.set()
                await asyncio.gather(*tasks)
                figures = [f(v) for v in (lags, busy) for f in (statistics.median, p99_of, max)]
                print(f"{name:36} {figures[0]:8.2f} {figures[1]:7.1f} {figures[2]:7.1f}", end="")
                print(f" {figures[3]:8.2f} {figures[4]:6.1f} {figures[5]:6.1f} {sent[0]:6d}")
    logging.getLogger().handlers.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--attackers", type=int, default=1)
    parser.add_argument("--mode", choices=["probe", "loop", "both"], default="both")
    parser.add_argument("--brokerql", default=str(BIN), help="the brokerql executable to serve with")
    parser.add_argument(
        "--same-process", action="store_true", help="probe: the attackers on the probe's own event loop (as before)"
    )
    if len(sys.argv) > 1 and sys.argv[1] == "--attack":
        asyncio.run(attack_process(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    args = parser.parse_args()
    if args.mode in ("loop", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(loop_lag(args.seconds, args.attackers, Path(tmp)))
    if args.mode == "loop":
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "BROKERQL_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            "BROKERQL_DEMO": "1",
            "BROKERQL_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijkl",
            "BROKERQL_RATE_LIMIT_SCALE": "100000",  # the attackers are measured, not rate limited
            "BROKERQL_LOG_FORMAT": "json",
        }
        server = subprocess.Popen(
            [args.brokerql, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.time() + 180  # migrations and demo data first; slow on a loaded machine
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.time() > deadline or server.poll() is not None:
                        raise SystemExit("brokerql serve did not become healthy") from None
                    time.sleep(0.2)
            where = "on the probe's loop" if args.same_process else "in their own process"
            print(f"{args.brokerql}, {args.attackers} attacker(s) {where}, load average {os.getloadavg()[0]:.1f}")
            asyncio.run(run(port, args.seconds, args.attackers, args.same_process))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
