"""The load generator of `bench/bench_fanout.py`: one subprocess's share of the sockets.

Reads its spec (JSON: url, sockets, seconds, ramp_timeout) from stdin, opens the sockets 50 at a time,
prints {"ready": n}, waits for a line on stdin ("go"), measures --seconds and prints its figures as JSON:
quote pushes and their age (receive time - asOf), the distinct snapshots seen per symbol, order events,
their age (receive time - `at`) and seq gaps, errors, and its own CPU time.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_push import raise_nofile


async def worker(spec: dict[str, Any]) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    stats: dict[str, Any] = {"q": 0, "o": 0, "hb": 0, "q_ages": [], "o_ages": [], "gaps": 0, "errors": []}
    seen: dict[str, set[str]] = {}
    subs: dict[str, int] = {}
    measuring = False

    def error(text: str) -> None:
        stats.setdefault("error_count", 0)
        stats["error_count"] += 1
        if len(stats["errors"]) < 5:
            stats["errors"].append(text[:300])

    async def read(ws: Any, kind: str) -> None:
        last_seq = None
        try:
            async for text in ws:
                if '"type":"next"' not in text or '"errors"' in text:
                    error(f"{kind}: {text[:200]}")
                    continue
                if not measuring:
                    if kind == "o" and '"seq":' in text:
                        last_seq = int(text[text.index('"seq":') + 6 :].split(",", 1)[0].split("}", 1)[0])
                    continue
                now = time.time()
                if kind == "q":
                    stats["q"] += 1
                    i, j = text.find('"symbol":"') + 10, text.find('"asOf":"') + 8
                    symbol, as_of = text[i : text.index('"', i)], text[j : text.index('"', j)]
                    seen.setdefault(symbol, set()).add(as_of)
                    stats["q_ages"].append(now - _ts(as_of))
                elif '"Heartbeat"' in text:
                    stats["hb"] += 1
                else:
                    stats["o"] += 1
                    seq = int(text[text.index('"seq":') + 6 :].split(",", 1)[0].split("}", 1)[0])
                    if last_seq is not None and seq != last_seq + 1:
                        stats["gaps"] += 1
                    last_seq = seq
                    j = text.find('"at":"') + 6
                    stats["o_ages"].append(now - _ts(text[j : text.index('"', j)]))
        except Exception as exc:
            error(f"{kind} read: {exc!r}")
        stats["closed"] = stats.get("closed", 0) + 1

    async def open_one(sock: dict[str, Any]) -> Any:
        try:
            ws = await connect(spec["url"], subprotocols=["graphql-transport-ws"], compression=None,
                               ping_interval=None, max_size=None, open_timeout=60)  # fmt: skip
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {sock['token']}"}})
            )
            ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
            assert ack.get("type") == "connection_ack", ack
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": sock["query"], "variables": sock["variables"]},
                    }
                )
            )
        except Exception as exc:
            error(f"connect: {exc!r}")
            return None
        if sock["kind"] == "q":
            for symbol in sock["variables"]["s"]:
                subs[symbol] = subs.get(symbol, 0) + 1
        return asyncio.create_task(read(ws, sock["kind"])), ws

    opened, ramp_until = [], time.monotonic() + spec["ramp_timeout"]
    for start in range(0, len(spec["sockets"]), 50):
        if time.monotonic() > ramp_until:  # a saturated server accepts sockets ever more slowly: stop here
            error(f"ramp timeout: {len(opened)} of {len(spec['sockets'])} sockets opened")
            break
        done = await asyncio.gather(*(open_one(s) for s in spec["sockets"][start : start + 50]))
        opened += [d for d in done if d is not None]
    print(json.dumps({"ready": len(opened)}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go"
    measuring, cpu0, t0 = True, _self_cpu(), time.monotonic()
    await asyncio.sleep(spec["seconds"])
    measuring = False
    stats["seconds"], stats["gen_cpu"] = time.monotonic() - t0, _self_cpu() - cpu0
    stats["seen"] = {k: len(v) for k, v in seen.items()}
    stats["seen_keys"] = {k: sorted(v) for k, v in seen.items()}
    stats["subs"] = subs
    stats["q_ages"] = _sample(stats["q_ages"])
    stats["o_ages"] = _sample(stats["o_ages"])
    for task, _ws in opened:
        task.cancel()
    await asyncio.gather(*(asyncio.wait_for(ws.close(), 5) for _, ws in opened), return_exceptions=True)
    return stats


def _ts(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _sample(values: list[float], keep: int = 20_000) -> list[float]:
    return values if len(values) <= keep else random.sample(values, keep)


def main() -> int:
    raise_nofile()
    spec = json.loads(sys.stdin.readline())
    print(json.dumps(asyncio.run(worker(spec))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
