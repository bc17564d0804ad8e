"""Identical reads asked for in one turn of the event loop, made once on the next turn.

When thousands of streams open at once (a reconnect storm: 1,500 orderEvents sockets of six accounts,
measured), each reading its account and last seq, the reads queued on the connection pool until some
timed out (INTERNAL). Callers that ask for the same key in one loop turn share one read, which starts
on the next turn, so it always begins after every one of them asked: a caller never gets a value read
before it asked (what `orderEvents` relies on: its live subscription opens before it reads the last seq).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TurnReads(Generic[K, V]):
    """`await reads(key)`: `read(key)`'s result, shared by every caller of that key in this loop turn."""

    def __init__(self, read: Callable[[K], Awaitable[V]]) -> None:
        self.read = read
        self._asked: dict[K, asyncio.Future[V]] = {}
        self._running: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak references

    async def __call__(self, key: K) -> V:
        future = self._asked.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._asked[key] = loop.create_future()
            loop.call_soon(self._start, key, future)
        # shield: a caller that leaves (a closed stream) must not cancel the read the others await
        return await asyncio.shield(future)

    def _start(self, key: K, future: asyncio.Future[V]) -> None:
        if self._asked.get(key) is future:
            del self._asked[key]  # callers from now on ask for a read of their own
        task = asyncio.ensure_future(self._run(key, future))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, key: K, future: asyncio.Future[V]) -> None:
        try:
            result = await self.read(key)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a waiter that left must not have it logged as lost
        else:
            future.set_result(result)
