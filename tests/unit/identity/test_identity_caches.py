"""The identity caches are bounded in size and age, both from settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from brokerql.services.identity.caches import roles_cache, session_rows, tier_cache
from brokerql.services.tokens import AccessTokens
from brokerql.settings import Settings


def test_sizes_and_ages_come_from_settings() -> None:
    settings = Settings(identity_cache_size=2, tier_cache_seconds=3, roles_cache_seconds=4, session_cache_seconds=5)
    for cache, ttl in ((tier_cache(settings), 3), (roles_cache(settings), 4)):
        assert (cache.maxsize, cache.ttl) == (2, ttl)
    rows = session_rows(settings, db=None)  # type: ignore[arg-type]
    assert (rows.maxsize, rows.recheck_seconds) == (2, 5)


def test_a_full_cache_evicts_the_least_recently_used() -> None:
    cache = tier_cache(Settings(identity_cache_size=2))
    cache["a"], cache["b"] = "GOLD", "SILVER"
    assert cache["a"] == "GOLD"  # a is now the most recently used
    cache["c"] = "TRIAL"
    assert set(cache) == {"a", "c"}


def test_verified_tokens_are_bounded() -> None:
    tokens = AccessTokens("k" * 40, timedelta(minutes=15), cache_size=3)
    now = datetime.now(UTC)
    issued = [tokens.issue(f"c{i}", "client", now=now, session_id=f"s{i}")[0] for i in range(10)]
    assert all(tokens.verify(token, now=now).subject_id == f"c{i}" for i, token in enumerate(issued))
    assert len(tokens._verified) == 3
