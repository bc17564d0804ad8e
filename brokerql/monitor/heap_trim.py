"""Gives the C allocator's free pages back to the system, now and then.

Under a steady load (docs/performance.md, "Target 4": 1,500 sockets, 10 orders a second) what glibc's
malloc has handed out stays flat once the market's windows are full, but the free space it keeps inside
its arenas grows by about 0.4 MiB a minute, and resident memory with it: chunks freed in a pattern that
leaves no whole region free at the top of a heap, where malloc would give it back by itself.
`malloc_trim(0)` gives back every whole free page inside the arenas as well (the pages stay mapped and
are faulted in again if used). Measured (docs/performance.md, "Target 4, ninth round"): once the windows
were full, resident memory grew 0.08-0.17 MiB a minute with it against 0.42-0.50 without, in two pairs of
30-minute soaks (one pair in turn, one side by side), for 5.6 ms of a worker thread a trim. Not to zero:
the free space that lies in holes smaller than a page no trim can give back.

Every `every` seconds, and only when more than `above` bytes are free, the trim runs in a worker thread:
ctypes releases the GIL for it, and it takes each arena's lock in turn, so the event loop waits only if
it needs a C allocation from the arena being trimmed at that moment (Python's small objects come from
its own allocator, not malloc). Counted on /metrics (`brokerql_malloc_trims_total`, and the seconds).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from brokerql.monitor import prometheus
from brokerql.monitor.heap import MallInfo2, mallinfo2, malloc_trim

log = logging.getLogger(__name__)


class HeapTrimmer:
    def __init__(
        self,
        every: float,
        above: int,
        mallinfo: Callable[[], MallInfo2] | None = None,
        trim: Callable[[int], int] | None = None,
    ) -> None:
        self.every, self.above = every, above
        self.mallinfo = mallinfo if mallinfo is not None else mallinfo2()
        self.trim = trim if trim is not None else malloc_trim()

    @property
    def available(self) -> bool:
        """On glibc, and switched on (`BROKERQL_MALLOC_TRIM_SECONDS` > 0)."""
        return self.every > 0 and self.mallinfo is not None and self.trim is not None

    def start(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.run(), name="heap-trim")] if self.available else []

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.trim_once()
            except Exception:  # never worth stopping the process for
                log.exception("malloc_trim failed")

    async def trim_once(self) -> bool:
        """Trim when more than `above` bytes are free; whether it did."""
        assert self.mallinfo is not None and self.trim is not None
        if self.mallinfo().fordblks <= self.above:
            return False
        started = time.perf_counter()
        await asyncio.to_thread(self.trim, 0)
        prometheus.MALLOC_TRIMS.inc()
        prometheus.MALLOC_TRIM_SECONDS.inc(time.perf_counter() - started)
        return True
