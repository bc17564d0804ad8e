"""Shared counters for the edge quotas: in this process, or on Redis so that every API process counts once.

Each operation is atomic on its backend (a Lua script or one MULTI on Redis; no await between read and
write in memory), which is what makes a burst of parallel requests unable to win an extra try.
The cost bucket and anonymous callers' requests per minute (`leak`, `count`) are the exceptions to one
round trip per operation: every operation moves them, so on Redis a process leases allowance ahead of
use and counts most operations in memory (services/allowances.py: how, and how far over or under the
limit that can go). The attempts and quotas of logins and registrations (`hit`) stay exact, one atomic
operation on Redis each.
If Redis fails, the process counts locally until it answers again (fail open: a Redis outage must not
refuse every caller), as the A4 request limits do.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from brokerql.services.allowances import Allowances

log = logging.getLogger(__name__)


class MemoryCounters:
    def __init__(self, clock: Any = time.time) -> None:
        self.clock = clock
        self._windows: dict[str, tuple[int, int]] = {}
        self._sets: dict[str, tuple[float, set[str]]] = {}
        self._flags: dict[str, float] = {}
        self._buckets: dict[str, tuple[float, float]] = {}

    def _sweep(self, table: dict[str, Any]) -> None:
        if len(table) > 100_000:  # idle keys: a cold start costs nothing but a fresh count
            table.clear()

    async def hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one event in the current fixed window; the count and the seconds left in the window."""
        now = self.clock()
        number = int(now // window_seconds)
        seen, count = self._windows.get(key, (number, 0))
        count = count + 1 if seen == number else 1
        self._sweep(self._windows)
        self._windows[key] = (number, count)
        return count, (number + 1) * window_seconds - now

    async def count(self, key: str, limit: int, window_seconds: int) -> tuple[int, float]:
        """`hit` for a request limit (one the caller is refused past): in memory it is the same count."""
        return await self.hit(key, window_seconds)

    async def add_member(self, key: str, member: str, ttl_seconds: int) -> int:
        """Add to a set that expires `ttl_seconds` after its first member; the set's size."""
        now = self.clock()
        expires, members = self._sets.get(key, (now + ttl_seconds, set()))
        if expires <= now:
            expires, members = now + ttl_seconds, set()
        members.add(member)
        self._sweep(self._sets)
        self._sets[key] = (expires, members)
        return len(members)

    async def set_flag(self, key: str, ttl_seconds: float) -> bool:
        """Set a flag unless it is already set (and not expired); whether this call set it."""
        now = self.clock()
        if self._flags.get(key, 0) > now:
            return False
        self._sweep(self._flags)
        self._flags[key] = now + ttl_seconds
        return True

    async def clear(self, key: str) -> None:
        self._flags.pop(key, None)

    async def ttl(self, key: str) -> float:
        return max(0.0, self._flags.get(key, 0) - self.clock())

    async def leak(self, key: str, cost: float, capacity: float, rate: float) -> tuple[bool, float, float]:
        """Pour `cost` into a leaky bucket; (allowed, level after, seconds to wait if refused)."""
        now = self.clock()
        level, at = self._buckets.get(key, (0.0, now))
        level = max(0.0, level - (now - at) * rate)
        if level + cost <= capacity:
            self._sweep(self._buckets)
            self._buckets[key] = (level + cost, now)
            return True, level + cost, 0.0
        self._buckets[key] = (level, now)
        return False, level, (level + cost - capacity) / rate


class RedisCounters:
    def __init__(self, redis: Any, prefix: str, allowances: Allowances, clock: Any = time.time) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.local = MemoryCounters(clock)
        self.allowances = allowances

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    async def _try(self, name: str, remote: Any, *args: Any) -> Any:
        try:
            return await remote()
        except Exception:  # Redis down: count locally rather than refuse or wave through everyone
            log.warning("edge counter on Redis failed; counting locally", exc_info=True)
            return await getattr(self.local, name)(*args)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, float]:
        now = self.clock()
        number = int(now // window_seconds)
        redis_key = self._key(f"{key}:{number}")

        async def remote() -> tuple[int, float]:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, 2 * window_seconds)
                count, _ = await pipe.execute()
            return int(count), (number + 1) * window_seconds - now

        return await self._try("hit", remote, key, window_seconds)

    async def count(self, key: str, limit: int, window_seconds: int) -> tuple[int, float]:
        now = self.clock()
        number = int(now // window_seconds)
        grant = await self.allowances.count(self._key(f"{key}:{number}"), limit, window_seconds)
        if grant is None:  # Redis down (logged): count locally
            return await self.local.hit(key, window_seconds)
        return round(grant.level), (number + 1) * window_seconds - now

    async def add_member(self, key: str, member: str, ttl_seconds: int) -> int:
        redis_key = self._key(key)

        async def remote() -> int:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.sadd(redis_key, member)
                pipe.expire(redis_key, ttl_seconds, nx=True)
                pipe.scard(redis_key)
                _, _, size = await pipe.execute()
            return int(size)

        return await self._try("add_member", remote, key, member, ttl_seconds)

    async def set_flag(self, key: str, ttl_seconds: float) -> bool:
        async def remote() -> bool:
            return bool(await self.redis.set(self._key(key), "1", nx=True, px=max(1, int(ttl_seconds * 1000))))

        return await self._try("set_flag", remote, key, ttl_seconds)

    async def clear(self, key: str) -> None:
        async def remote() -> None:
            await self.redis.delete(self._key(key))

        await self._try("clear", remote, key)

    async def ttl(self, key: str) -> float:
        async def remote() -> float:
            return max(0.0, int(await self.redis.pttl(self._key(key))) / 1000)

        return await self._try("ttl", remote, key)

    async def leak(self, key: str, cost: float, capacity: float, rate: float) -> tuple[bool, float, float]:
        grant = await self.allowances.pour(self._key(key), cost, capacity, rate, self.clock)
        if grant is None:  # Redis down (logged): count locally
            return await self.local.leak(key, cost, capacity, rate)
        return grant.allowed, grant.level, grant.wait_seconds


def make_counters(redis: Any, prefix: str, allowances: Allowances | None = None) -> MemoryCounters | RedisCounters:
    if redis is None:
        return MemoryCounters()
    return RedisCounters(redis, f"{prefix}:edge", allowances or Allowances(redis, settle_seconds=0))
