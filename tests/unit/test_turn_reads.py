"""Reads asked for in one loop turn are made once, after every caller asked (services/turn_reads.py)."""

from __future__ import annotations

import asyncio

from brokerql.services.turn_reads import TurnReads


async def test_callers_of_one_turn_share_one_read_that_starts_after_them() -> None:
    started: list[str] = []
    asked = 0

    async def read(key: str) -> str:
        started.append(key)
        await asyncio.sleep(0)
        return f"{key}:{asked}"

    reads = TurnReads(read)

    async def ask(key: str) -> str:
        nonlocal asked
        asked += 1
        return await reads(key)

    same = await asyncio.gather(ask("a"), ask("a"), ask("b"))
    assert same == ["a:3", "a:3", "b:3"]  # read after all three asked, once per key
    assert started == ["a", "b"]
    assert await ask("a") == "a:4"  # a later caller gets a read of its own
    assert started == ["a", "b", "a"]


async def test_a_failed_read_fails_its_callers_only() -> None:
    async def read(key: str) -> str:
        raise LookupError(key)

    reads = TurnReads(read)
    results = await asyncio.gather(reads("x"), reads("x"), return_exceptions=True)
    assert all(isinstance(r, LookupError) for r in results)
