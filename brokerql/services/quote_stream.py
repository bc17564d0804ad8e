"""quotes(symbols): the latest snapshot of each symbol at once, then every change, in the entitled view.

The view (real-time or delayed) is asked per event (`view_of`), so a downgrade applies to an open
stream. Distribution: the bus keeps one upstream subscription per topic per process and fans out
locally; a quote subscriber is conflated (a slow one skips superseded snapshots of a symbol instead
of being cut off). The session is re-verified (`check_live`) once per heartbeat interval, not on every
quote: liveness costs a session read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from brokerql.bus import Bus, Resync
from brokerql.services.market import MarketData

Snapshot = tuple[str, dict[str, Any]]  # (topic, snapshot)


class QuoteStream:
    def __init__(self, market: MarketData, bus: Bus, *, liveness_seconds: float) -> None:
        self.market, self.bus, self.liveness_seconds = market, bus, liveness_seconds

    async def follow(
        self,
        views: dict[str, bool],
        view_of: Callable[[str], Awaitable[bool]],
        check_live: Callable[[], Awaitable[Any]],
    ) -> AsyncIterator[Snapshot]:
        """Snapshots of `views` (symbol -> delayed) now, then as they change, each only in the view
        `view_of(symbol)` says the caller may see at that moment (True: delayed)."""
        topics = {self.market.topic(s, delayed=d): (s, d) for s in views for d in (False, True)}
        async with await self.bus.subscribe(list(topics), conflate=True) as subscription:
            async for item in self._latest(views):
                yield item
            loop, next_check = asyncio.get_running_loop(), 0.0
            while True:
                try:
                    item = await subscription.get()
                except Resync:  # the upstream link was lost: whatever is latest now, for every symbol
                    async for latest in self._latest(views):
                        yield latest
                    continue
                assert item is not None
                topic, snapshot = item
                symbol, delayed = topics[topic]
                if loop.time() >= next_check:  # revoked, expired or idle-locked: ends within a heartbeat
                    await check_live()
                    next_check = loop.time() + self.liveness_seconds
                if await view_of(symbol) == delayed:
                    yield topic, snapshot

    async def _latest(self, views: dict[str, bool]) -> AsyncIterator[Snapshot]:
        """The retained snapshot of each symbol at its view."""
        for symbol, delayed in views.items():
            snapshot = await self.market.snapshot(symbol, delayed=delayed)
            if snapshot is not None:
                yield self.market.topic(symbol, delayed=delayed), snapshot
