"""Is an exchange live? What every process can ask (the API's /healthz, quotes, monitoring).

The lease holder writes a fenced heartbeat into `venue_lease` every `BROKERQL_EXCHANGE_HEARTBEAT_SECONDS`,
with when its venue last matched and last published market data. Every process reads that row once a
second (`VenueWatch`), so the answer is the same on every API process whatever the bus, and costs no I/O
per request. The exchange counts as live while its heartbeat is younger than `stale_after` seconds.

`VenueWatch.status()` is the function to call: `container.venue_watch.status()` -> `VenueStatus`.
Clocks of the processes are compared: keep them in sync (NTP), as for any deployment.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.exchange.reports import ReportJournal
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VenueStatus:
    """The cluster's exchange as this process sees it now, and this process's own part in it."""

    live: bool
    local_role: str  # active | standby | starting | stopped | off (this process runs no exchange)
    holder: str | None
    heartbeat_age: float | None  # seconds since the holder's last heartbeat; None: no exchange ever ran
    last_match_age: float | None  # seconds since its venue last matched an order (client or simulated)
    last_quote_age: float | None  # seconds since it last published market data
    stale_after: float

    @property
    def quotes_stale(self) -> bool:
        """Published quotes are not the market now: no live exchange, or none published for too long."""
        return not self.live or self.last_quote_age is None or self.last_quote_age > self.stale_after

    def as_json(self) -> dict[str, Any]:
        """The `exchange` object of /healthz (docs/operations.md)."""

        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "live": self.live,
            "role": self.local_role,
            "holder": self.holder,
            "heartbeatAgeSeconds": r(self.heartbeat_age),
            "lastMatchAgeSeconds": r(self.last_match_age),
            "lastQuoteAgeSeconds": r(self.last_quote_age),
            "quotesStale": self.quotes_stale,
            "staleAfterSeconds": self.stale_after,
        }


class VenueWatch:
    """Follows the lease holder's heartbeat (a small read per second per process)."""

    def __init__(
        self,
        journal: ReportJournal,
        *,
        stale_after: float = 5.0,
        poll_seconds: float = 1.0,
        clock: Clock = SYSTEM_CLOCK,
        local_role: Any = None,
    ) -> None:
        self.journal = journal
        self.stale_after = stale_after
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.local_role = local_role  # a callable giving this process's host role, None without a host
        self._row: tuple[str, datetime, datetime | None, datetime | None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.refresh()
        self._tasks = [asyncio.create_task(self._follow(), name="venue-watch")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)

    async def refresh(self) -> None:
        try:
            row = await self.journal.lease_row()
        except Exception as exc:  # the database is down: keep the last known (it ages, so it goes stale)
            log.debug("venue watch cannot read the lease (%s)", exc)
            return
        if row is not None:
            self._row = (row.holder, row.heartbeat_at, row.last_match_at, row.last_quote_at)

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            await self.refresh()

    def status(self) -> VenueStatus:
        now = self.clock.now()
        role = self.local_role() if self.local_role is not None else "off"
        if self._row is None:
            return VenueStatus(role == "active", str(role), None, None, None, None, self.stale_after)
        holder, heartbeat_at, match_at, quote_at = self._row

        def age(at: datetime | None) -> float | None:
            return None if at is None else max(0.0, (now - at).total_seconds())

        heartbeat_age = age(heartbeat_at)
        # This process's own venue is serving: live whatever the last read of its heartbeat says (the
        # read is up to a poll old, and a busy machine can delay it past `stale_after`).
        live = role == "active" or (heartbeat_age is not None and heartbeat_age <= self.stale_after)
        return VenueStatus(live, str(role), holder, heartbeat_age, age(match_at), age(quote_at), self.stale_after)
