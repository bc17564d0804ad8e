"""The compliance facts of recent clients, kept briefly so that an order does not read them again.

Every order's admission needs the client's risk level, trading experience, operator grants (the
profile row) and average daily assets (the asset history): two reads per order, a tenth of the
event loop's time per order in a profile of `bench/bench_order_path.py` (docs/performance.md, "CPU
per order"), for rows that change a few times a year (the profile) or once a day (the assets).

What is kept is what was read (the rows' values), keyed by client and by the local day the asset
window ends on, so a new day reads again; the experience in months is worked out from it at each use.

How stale it can be:
- A change written in this process (any ORM flush of a `ClientProfileRow` or `ClientDailyAssetsRow`,
  whoever writes it) drops the client's entry at the flush and again once its unit of work has
  committed (`Database.transaction`'s after-commit callbacks), and a read that was under way when the
  change was flushed is not kept: the next order reads the change.
- A change written by another process (another API worker, the admin CLI) is seen within the TTL
  (`BROKERQL_CLIENT_FACTS_CACHE_SECONDS`, 5 s): the same kind of bound as the tier's.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any

from cachetools import TTLCache
from sqlalchemy import event
from sqlalchemy.orm import Session

from brokerql.domain.compliance.suitability import ClientFacts
from brokerql.domain.identity.grading_inputs import months_since
from brokerql.store.database import after_commit
from brokerql.store.tables_identity import ClientDailyAssetsRow, ClientProfileRow


@dataclass(frozen=True, slots=True)
class StoredFacts:
    """A client's fact rows as read on `day` (`risk_level` None: the client has no profile)."""

    day: date
    risk_level: str | None
    trading_since: datetime | date | None
    granted: frozenset[str]
    average_daily_assets: Decimal

    def facts(self, now: datetime) -> ClientFacts:
        if self.risk_level is None:
            return ClientFacts("C1", self.average_daily_assets, 0)
        return ClientFacts(
            risk_level=self.risk_level,
            average_daily_assets=self.average_daily_assets,
            experience_months=months_since(self.trading_since, now),
            granted=self.granted,
        )


class FactsCache:
    """Client id -> StoredFacts, bounded (LRU) and expiring; entries dropped when their rows change here."""

    def __init__(self, ttl_seconds: float, maxsize: int = 100_000) -> None:
        self._entries: TTLCache[str, StoredFacts] = TTLCache(maxsize=maxsize, ttl=ttl_seconds)
        self._changes = 0  # bumped by every forget: a read that overlapped one is not kept
        _caches.add(self)

    def get(self, client_id: str, day: date) -> StoredFacts | None:
        stored = self._entries.get(client_id)
        return stored if stored is not None and stored.day == day else None

    def mark(self) -> int:
        """Call before reading; pass the answer to `put`."""
        return self._changes

    def put(self, client_id: str, stored: StoredFacts, mark: int) -> None:
        if mark == self._changes:
            self._entries[client_id] = stored

    def forget(self, client_ids: set[str]) -> None:
        self._changes += 1
        for client_id in client_ids:
            self._entries.pop(client_id, None)


_caches: weakref.WeakSet[FactsCache] = weakref.WeakSet()


def _forget_everywhere(client_ids: set[str]) -> None:
    for cache in list(_caches):
        cache.forget(client_ids)


@event.listens_for(Session, "after_flush")
def _facts_flushed(session: Session, _flush_context: Any) -> None:
    """Any session of this process that writes a client's fact rows drops that client's cached facts."""
    changed = {
        obj.client_id
        for obj in chain(session.new, session.dirty, session.deleted)
        if isinstance(obj, (ClientProfileRow, ClientDailyAssetsRow))
    }
    if not changed:
        return
    _forget_everywhere(changed)
    # A read between this flush and the COMMIT still sees the old rows: forget again once committed.
    after_commit(session, lambda: _forget_everywhere(changed))
