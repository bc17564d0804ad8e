"""The bounded caches of identity state that every request needs (tiers, operator roles, session rows).

Each is a cachetools TTLCache: at most `identity_cache_size` entries (least recently used go first) and
each entry re-read from the database after its TTL, so a change made by another process (a downgrade, a
role removed, a session revoked) is seen within that many seconds, and memory stays bounded however many
clients come and go. TTLs run on the monotonic clock: they measure staleness, not business time.
"""

from __future__ import annotations

from typing import Any

from cachetools import TTLCache

from brokerql.settings import Settings


def tier_cache(settings: Settings) -> TTLCache[str, str]:
    """Client id -> tier code."""
    return TTLCache(maxsize=settings.identity_cache_size, ttl=settings.tier_cache_seconds)


def roles_cache(settings: Settings) -> TTLCache[str, list[str] | None]:
    """Operator id -> roles (None: no such operator)."""
    return TTLCache(maxsize=settings.identity_cache_size, ttl=settings.roles_cache_seconds)


def session_cache(settings: Settings) -> TTLCache[str, Any]:
    """Session id -> its row (None: no such session), read for the idle lock."""
    return TTLCache(maxsize=settings.identity_cache_size, ttl=settings.session_cache_seconds)
