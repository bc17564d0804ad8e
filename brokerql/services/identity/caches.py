"""The bounded caches of identity state that every request needs (tiers, operator roles, session rows).

Each is a cachetools TTLCache: at most `identity_cache_size` entries (least recently used go first) and
each entry re-read from the database after its TTL, so a change made by another process (a downgrade, a
role removed, a session revoked) is seen within that many seconds, and memory stays bounded however many
clients come and go. TTLs run on the monotonic clock: they measure staleness, not business time.
Session rows are kept differently (`live_sessions.py`): a row that lets its session act is not read
again, one that locks it is re-read at most every `session_cache_seconds`.
"""

from __future__ import annotations

from cachetools import TTLCache

from brokerql.services.identity.live_sessions import LiveSessionRows
from brokerql.settings import Settings
from brokerql.store.database import Database


def tier_cache(settings: Settings) -> TTLCache[str, str]:
    """Client id -> tier code."""
    return TTLCache(maxsize=settings.identity_cache_size, ttl=settings.tier_cache_seconds)


def roles_cache(settings: Settings) -> TTLCache[str, list[str] | None]:
    """Operator id -> roles (None: no such operator)."""
    return TTLCache(maxsize=settings.identity_cache_size, ttl=settings.roles_cache_seconds)


def session_rows(settings: Settings, db: Database) -> LiveSessionRows:
    """Session id -> its row (None: no such session), read for the idle lock."""
    return LiveSessionRows(db, maxsize=settings.identity_cache_size, recheck_seconds=settings.session_cache_seconds)
