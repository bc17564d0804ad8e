"""Each process's cache of its clients' tiers, which every request and subscription event consults.

Every tier change updates it as it commits, in every process (`take`, from the bus:
`services/identity/tier_notices.py`); an entry is read again after `settings.tier_cache_seconds` at the
latest, for a change that reached no notice (an edit outside BrokerQL). Reads are single-flight, and a
read asked for before a change was heard of is not kept.
"""

from __future__ import annotations

import asyncio

from cachetools import LRUCache, TTLCache
from sqlalchemy import select

from brokerql.store.database import Database
from brokerql.store.tables import ClientRow


class TierCache:
    """Client id -> tier code, bounded (`identity_cache_size`), with the last tier read kept past the TTL."""

    def __init__(self, db: Database, tiers: TTLCache[str, str]) -> None:
        self.db = db
        self._tiers = tiers
        # The last tier read of each client, kept past the TTL for `tier_of(stale_ok=True)`.
        self._last: LRUCache[str, str] = LRUCache(maxsize=tiers.maxsize)
        self._reads: dict[str, asyncio.Future[str]] = {}
        # Moves on every tier change this process hears of: a read that began before one is not kept.
        self._changes = 0

    async def tier_of(self, client_id: str, *, stale_ok: bool = False) -> str:
        """The client's tier.

        `stale_ok` (quote streams, per event): once the entry expired, answer with the last tier read while
        one refresh runs, instead of waiting for it. Every stream of a client woke on the same tick used to
        wait for that read, so a database busy with orders stalled every quote of the client for as long as
        the read queued (seconds, measured). Staleness is then the TTL plus one read; a change heard of
        (`forget`, `take`) still makes the next caller wait for, or take, the new tier."""
        cached = self._tiers.get(client_id)
        if cached is not None:
            return cached
        # Single flight: when the entry expires, every stream of this client woken by the same tick would
        # otherwise query the database at once. The first caller reads; the others await its answer.
        pending = self._reads.get(client_id)
        if pending is None:
            pending = self._reads[client_id] = asyncio.ensure_future(self._read(client_id, self._changes))
            pending.add_done_callback(lambda done: self._finished(client_id, done))
        if stale_ok and (last := self._last.get(client_id)) is not None:
            return last
        return await asyncio.shield(pending)

    def forget(self, client_id: str) -> None:
        """The client's tier changed: the next caller waits for a read begun after the change."""
        self._changes += 1
        self._reads.pop(client_id, None)  # a read in flight may have seen the old tier
        self._tiers.pop(client_id, None)
        self._last.pop(client_id, None)

    def take(self, client_id: str, tier: str | None) -> None:
        """A tier change committed (heard from the bus): the client's tier is `tier` from now on."""
        self.forget(client_id)
        if tier is not None:
            self._tiers[client_id] = self._last[client_id] = tier

    def forget_all(self) -> None:
        """Changes may have gone unheard (the bus link was lost): every tier is read afresh."""
        self._changes += 1
        self._reads.clear()
        self._tiers.clear()
        self._last.clear()

    async def _read(self, client_id: str, changes: int) -> str:
        """Read the tier; keep it unless a change was heard of since the read was asked for (`changes`)."""
        async with self.db.read() as session:
            tier = await session.scalar(select(ClientRow.tier_code).where(ClientRow.id == client_id))
        if tier is None:
            raise LookupError(client_id)
        if changes == self._changes:  # else a change may have committed after this read: not kept
            self._tiers[client_id] = self._last[client_id] = tier
        return tier

    def _finished(self, client_id: str, done: asyncio.Future[str]) -> None:
        if self._reads.get(client_id) is done:  # not a newer read that replaced it after a change
            del self._reads[client_id]
        if not done.cancelled():
            done.exception()  # retrieved: nobody may be waiting
