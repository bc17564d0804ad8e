"""Stopping background tasks reliably; long loops that share the event loop fairly."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

log = logging.getLogger(__name__)


async def stop_tasks(tasks: Iterable[asyncio.Task[None]], timeout: float = 5.0) -> None:
    """Cancel the tasks and wait until they are done.

    Some client libraries (redis-py's connection handling among them) can swallow a CancelledError
    that lands inside their I/O; the loop around it then carries on. So cancel again until each task
    really ends, instead of awaiting one cancellation forever.
    """
    pending = {t for t in tasks if not t.done()}
    deadline = asyncio.get_running_loop().time() + timeout
    while pending:
        for task in pending:
            task.cancel()
        _done, pending = await asyncio.wait(pending, timeout=0.1)
        if pending and asyncio.get_running_loop().time() > deadline:
            log.warning("tasks did not stop in %.1fs: %s", timeout, [t.get_name() for t in pending])
            return


class TimeSlice:
    """Yields to the event loop once a long loop has held it for `budget` seconds since its last yield.

    A yield is a whole loop iteration, which under load is every socket's writes: yielding after each
    small step of a long loop (each instrument of a market tick) multiplied the loop's length by the
    number of steps, and slowed the market's tick with it. Yielding by time bounds both."""

    __slots__ = ("_until", "budget")

    def __init__(self, budget: float = 0.005) -> None:
        self.budget = budget
        self._until = time.perf_counter() + budget

    async def pause(self) -> None:
        if time.perf_counter() >= self._until:
            await asyncio.sleep(0)
            self._until = time.perf_counter() + self.budget
