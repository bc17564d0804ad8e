"""The store of automatic persisted queries (APQ), bounded in entries and bytes.

A client registers a query by sending its text with its sha256; from then on it may send the hash alone.
Anyone can register, so the store is a target: without bounds, an address could fill memory (or Redis)
with a day's worth of 64 KiB documents. Hence:

- only documents that parsed and validated are kept (the HTTP view stores a query after it ran);
- the store holds at most `max_entries` queries and `max_bytes` of query text; a new query evicts the
  least recently used ones until it fits, and entries expire `ttl_seconds` after their last use. An
  evicted query costs its client one round trip (PERSISTED_QUERY_NOT_FOUND, then the text again);
- each address may register `registrations_per_hour` new queries (api/edge.py), refused with
  RATE_LIMITED past that.

In one process the store is an ordered dict; scaled, it is one Redis hash, a sorted set of last uses
and a byte count, changed by one Lua script so that concurrent processes keep the bounds exact. If Redis
fails, the process keeps queries in its own memory (the same bounds) until Redis answers again.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApqBounds:
    max_entries: int = 10_000
    max_bytes: int = 16 * 1024 * 1024
    ttl_seconds: int = 24 * 3600


class MemoryApqStore:
    def __init__(self, bounds: ApqBounds, clock: Any = time.time) -> None:
        self.bounds = bounds
        self.clock = clock
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()  # digest -> (text, last use)
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> str | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[1] + self.bounds.ttl_seconds <= self.clock():
            self._drop(digest)
            return None
        self._entries[digest] = (entry[0], self.clock())
        self._entries.move_to_end(digest)
        return entry[0]

    def put(self, digest: str, text: str) -> None:
        size = len(text.encode())
        if digest in self._entries:
            self._drop(digest)
        if size > self.bounds.max_bytes:
            return
        while self._entries and (
            len(self._entries) >= self.bounds.max_entries or self.bytes + size > self.bounds.max_bytes
        ):
            self._drop(next(iter(self._entries)))  # least recently used first
        self._entries[digest] = (text, self.clock())
        self.bytes += size

    def _drop(self, digest: str) -> None:
        text, _ = self._entries.pop(digest)
        self.bytes -= len(text.encode())


# KEYS: hash of texts, sorted set digest -> last use, byte count. ARGV: digest, text, now, max entries,
# max bytes, ttl. Drops expired entries, then the least recently used until the new one fits.
REMEMBER = """
local texts, uses, total = KEYS[1], KEYS[2], KEYS[3]
local digest, text, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local max_entries, max_bytes, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local function drop(d)
  redis.call('DECRBY', total, redis.call('HSTRLEN', texts, d))
  redis.call('HDEL', texts, d)
  redis.call('ZREM', uses, d)
end
if redis.call('HEXISTS', texts, digest) == 1 then drop(digest) end
if string.len(text) > max_bytes then return 0 end
for _, d in ipairs(redis.call('ZRANGEBYSCORE', uses, '-inf', now - ttl)) do drop(d) end
while redis.call('ZCARD', uses) > 0 and (redis.call('ZCARD', uses) >= max_entries
    or tonumber(redis.call('GET', total) or '0') + string.len(text) > max_bytes) do
  drop(redis.call('ZRANGE', uses, 0, 0)[1])
end
redis.call('HSET', texts, digest, text)
redis.call('ZADD', uses, now, digest)
redis.call('INCRBY', total, string.len(text))
return 1
"""

# KEYS: hash of texts, sorted set of last uses. ARGV: digest, now, ttl. The text, its use recorded.
LOOKUP = """
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) <= tonumber(ARGV[2]) - tonumber(ARGV[3]) then return false end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return redis.call('HGET', KEYS[1], ARGV[1])
"""


class RedisApqStore:
    def __init__(self, redis: Any, prefix: str, bounds: ApqBounds, clock: Any = time.time) -> None:
        self.redis = redis
        self.bounds = bounds
        self.clock = clock
        self.keys = [f"{prefix}:texts", f"{prefix}:uses", f"{prefix}:bytes"]
        self.local = MemoryApqStore(bounds, clock)
        self._remember = redis.register_script(REMEMBER)
        self._lookup = redis.register_script(LOOKUP)

    async def get(self, digest: str) -> str | None:
        try:
            value = await self._lookup(keys=self.keys[:2], args=[digest, self.clock(), self.bounds.ttl_seconds])
        except Exception:  # Redis down: the client sends the text again, nothing is lost
            log.warning("APQ lookup on Redis failed; using this process's store", exc_info=True)
            return self.local.get(digest)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def put(self, digest: str, text: str) -> None:
        b = self.bounds
        try:
            args = [digest, text, self.clock(), b.max_entries, b.max_bytes, b.ttl_seconds]
            await self._remember(keys=self.keys, args=args)
        except Exception:
            log.warning("APQ store on Redis failed; keeping the query in this process", exc_info=True)
            self.local.put(digest, text)

    async def size(self) -> tuple[int, int]:
        """(entries, bytes) on Redis: for tests and operators."""
        entries = await self.redis.zcard(self.keys[1])
        total = await self.redis.get(self.keys[2])
        return int(entries), int(total or 0)


class LocalApqStore:
    """The in-process store behind the same async interface as the Redis one."""

    def __init__(self, bounds: ApqBounds, clock: Any = time.time) -> None:
        self.local = MemoryApqStore(bounds, clock)

    async def get(self, digest: str) -> str | None:
        return self.local.get(digest)

    async def put(self, digest: str, text: str) -> None:
        self.local.put(digest, text)

    async def size(self) -> tuple[int, int]:
        return len(self.local), self.local.bytes


def make_apq_store(redis: Any, prefix: str, bounds: ApqBounds) -> LocalApqStore | RedisApqStore:
    return RedisApqStore(redis, f"{prefix}:apq", bounds) if redis is not None else LocalApqStore(bounds)
