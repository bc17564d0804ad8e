"""Quote fan-out inside one process: pushes/s through the in-process bus vs bare asyncio.Queue.

    python bench/bench_quotes.py [--subscribers 10 100 1000] [--snapshots N]

One producer publishes N real quote snapshots (built by the exchange's desk) on one topic; S local
subscriber tasks each read every one. Each round publishes one snapshot and yields to the loop, so
every subscriber wakes once per snapshot (the worst case: no batching). Lines:

- `asyncio.Queue`   the floor: put_nowait into S bare queues, S tasks await get (no bus at all);
- `bus queue`       MemoryBus.publish -> Hub fan-out -> bounded Subscription queues;
- `bus conflated`   the same with subscribe(conflate=True), what quote streams use;
- `+ Quote each`    bus conflated, and every subscriber builds its own Quote object from the snapshot;
- `+ Quote shared`  bus conflated, the Quote built once per (snapshot, view) and shared (quotes.py).

A push is one snapshot handed to one subscriber; ratios are against the asyncio.Queue floor.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from a plain checkout

from brokerql.bus.memory import MemoryBus
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.domain.market.simulator import MarketSimulator
from brokerql.exchange.desk import QuoteDesk
from brokerql.schema.types.market import Quote
from brokerql.subscriptions.quotes import shared_quote

TOPIC = "quotes.600000"


def snapshots(count: int) -> list[dict[str, Any]]:
    """`count` distinct real snapshots of 600000 (10-level depth, tape, bars), built before timing."""
    instruments = {"600000": DEMO_INSTRUMENTS["600000"]}
    sim = MarketSimulator(instruments, seed=1)
    books = {"600000": sim.create_book(instruments["600000"])}
    desk = QuoteDesk(dict(instruments), books, always_open=True)
    now = datetime(2026, 5, 11, 2, 0, tzinfo=UTC)
    out = []
    for n in range(count):
        actions = sim.step(books["600000"], instruments["600000"])
        desk.record("600000", [e for a in actions for e in a.executions], now)
        out.append({**desk.snapshot("600000", now), "n": n})
    return out


async def run_queues(subscribers: int, items: list[dict[str, Any]]) -> float:
    queues: list[asyncio.Queue[dict[str, Any]]] = [asyncio.Queue() for _ in range(subscribers)]
    last = len(items) - 1

    async def consume(queue: asyncio.Queue[dict[str, Any]]) -> None:
        while (await queue.get())["n"] != last:
            pass

    tasks = [asyncio.create_task(consume(q)) for q in queues]
    await asyncio.sleep(0)
    start = time.perf_counter()
    for item in items:
        for queue in queues:
            queue.put_nowait(item)
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def run_bus(
    subscribers: int, items: list[dict[str, Any]], *, conflate: bool, build: Callable[[str, dict], Any] | None = None
) -> float:
    bus = MemoryBus(buffer_size=len(items) + 1)
    subs = [await bus.subscribe([TOPIC], conflate=conflate) for _ in range(subscribers)]
    last = len(items) - 1

    async def consume(sub: Any) -> None:
        while True:
            topic, message = await sub.get()
            if build is not None:
                build(topic, message)
            if message["n"] == last:
                return

    tasks = [asyncio.create_task(consume(s)) for s in subs]
    await asyncio.sleep(0)
    start = time.perf_counter()
    for item in items:
        await bus.publish(TOPIC, item, retain=True)
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for sub in subs:
        await sub.close()
    return elapsed


def per_subscriber(_topic: str, snapshot: dict[str, Any]) -> Quote:
    return Quote.from_snapshot(snapshot)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--snapshots", type=int, default=2000, help="snapshots published per run (default 2000)")
    args = parser.parse_args()
    made = snapshots(args.snapshots)
    print(f"{len(made)} snapshots of 600000 (10-level depth + tape) on one topic; Python {sys.version.split()[0]}")
    for subscribers in args.subscribers:
        items = made[: max(200, len(made) * 10 // subscribers)]  # keep each run short at large fan-out
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("asyncio.Queue", partial(run_queues, subscribers, items)),
            ("bus queue", partial(run_bus, subscribers, items, conflate=False)),
            ("bus conflated", partial(run_bus, subscribers, items, conflate=True)),
            ("+ Quote each", partial(run_bus, subscribers, items, conflate=True, build=per_subscriber)),
            ("+ Quote shared", partial(run_bus, subscribers, items, conflate=True, build=shared_quote)),
        ]
        print(f"\n{subscribers} subscribers x {len(items)} snapshots")
        floor = None
        for name, runner in runs:
            seconds = await runner()
            rate = subscribers * len(items) / seconds
            floor = floor or rate
            print(f"  {name:>15}: {rate:12,.0f} pushes/s  ({rate / floor:5.2f}x asyncio.Queue)")


if __name__ == "__main__":
    asyncio.run(main())
