"""Shared counters for the edge quotas: in this process, or on Redis so that every API process counts once.

Each operation is atomic on its backend (a Lua script or one MULTI on Redis; no await between read and
write in memory), which is what makes a burst of parallel requests unable to win an extra try.
If Redis fails, the process counts locally until it answers again (fail open: a Redis outage must not
refuse every caller), as the A4 request limits do.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)

# KEYS[1] = bucket; ARGV = cost, capacity, leak per second, now. Returns {allowed, level*1000, wait ms}.
LEAKY_BUCKET = """
local level = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local at = tonumber(redis.call('HGET', KEYS[1], 't') or ARGV[4])
local cost, capacity, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
level = math.max(0, level - (now - at) * rate)
local allowed = 0
local wait = 0
if level + cost <= capacity then
  level = level + cost
  allowed = 1
else
  wait = math.ceil((level + cost - capacity) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'l', tostring(level), 't', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {allowed, math.floor(level * 1000), wait}
"""


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
    def __init__(self, redis: Any, prefix: str, clock: Any = time.time) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.local = MemoryCounters(clock)
        self._script = redis.register_script(LEAKY_BUCKET)

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
        async def remote() -> tuple[bool, float, float]:
            allowed, level, wait = await self._script(keys=[self._key(key)], args=[cost, capacity, rate, self.clock()])
            return bool(allowed), int(level) / 1000, int(wait) / 1000

        return await self._try("leak", remote, key, cost, capacity, rate)


def make_counters(redis: Any, prefix: str) -> MemoryCounters | RedisCounters:
    return RedisCounters(redis, f"{prefix}:edge") if redis is not None else MemoryCounters()
