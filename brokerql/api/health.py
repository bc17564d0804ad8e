"""The dependency checks of GET /healthz (the database and the bus answer), shared for a second.

/healthz is anonymous and load balancers call it often; without sharing, every call was a database round
trip, so its own latency was the connection pool's queue (and any caller could make the process hit
its database as fast as it could send). A result is reused for `ttl` seconds and concurrent callers
wait for one check; a failure is seen by the next check at most `ttl` later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

Probe = Callable[[], Awaitable[object]]


class DependencyChecks:
    def __init__(self, probes: Sequence[tuple[str, Probe]], ttl: float = 1.0) -> None:
        self.probes, self.ttl = probes, ttl
        self._result: dict[str, str] = {}
        self._checked_at = float("-inf")
        self._running: asyncio.Task[dict[str, str]] | None = None

    async def results(self) -> dict[str, str]:
        """{name: "ok" or "error: <exception type>"}, at most `ttl` seconds old."""
        if time.monotonic() - self._checked_at < self.ttl:
            return self._result
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._check())
        return await asyncio.shield(self._running)

    async def _check(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        for name, probe in self.probes:
            try:
                await probe()
                checks[name] = "ok"
            except Exception as exc:  # a health check reports, it does not raise
                checks[name] = f"error: {type(exc).__name__}"
        self._result, self._checked_at = checks, time.monotonic()
        return checks
