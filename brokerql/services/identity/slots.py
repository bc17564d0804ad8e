"""A4 concurrent-subscription slots, counted once per deployment rather than once per process.

In one process the counts are in memory (`SlotCounts`). When scaled (a Redis bus), every API process
draws on one count per caller: a sorted set per caller on Redis whose members are the open streams'
slots, each scored with the time its lease ends. Taking a slot is one Lua script (drop expired leases,
count, add if under the limit), so two processes cannot both take the last one. Each process renews
the leases of its open streams in one pipeline every third of `subscription_slot_ttl_seconds`, and
releases a slot when its stream ends; a process that crashes stops renewing, so its slots expire by
themselves instead of blocking the caller for ever. Lease times are Redis's own clock (`TIME`), so
the processes' clocks need not agree.

If Redis fails, the process counts in memory until it answers again (fail open, like the request
counters: a Redis outage must not refuse every stream).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from brokerql.domain.identity.rate_limit import SlotCounts

log = logging.getLogger(__name__)

# KEYS[1]: the caller's set; ARGV: lease ms, limit, slot id. Returns 1 if the slot was taken, else 0.
ACQUIRE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local lease = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_ms + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return 1
"""

# KEYS: callers' sets; ARGV[1]: lease ms, then one slot id per key. Extends only slots still present
# (XX): a lease that ran out while this process stalled is not resurrected.
RENEW = """
local now = redis.call('TIME')
local until_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', until_ms, ARGV[i + 1])
  redis.call('PEXPIRE', key, tonumber(ARGV[1]))
end
return #KEYS
"""


class SubscriptionSlots:
    """Takes and gives back one caller's concurrent-stream slots (shared through Redis when given one)."""

    def __init__(self, redis: Any = None, *, prefix: str = "brokerql", lease_seconds: float = 30.0) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:subslots"
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self._local = SlotCounts()
        self._held: dict[str, tuple[str, bool]] = {}  # slot id -> (caller key, held on Redis?)
        self._acquire = redis.register_script(ACQUIRE) if redis is not None else None
        self._renew = redis.register_script(RENEW) if redis is not None else None

    def _key(self, caller: str) -> str:
        return f"{self.prefix}:{caller}"

    async def acquire(self, caller: str, limit: int) -> str | None:
        """A slot id for the caller, or None when it already holds `limit` slots."""
        slot = secrets.token_hex(8)
        if self._acquire is not None:
            try:
                taken = await self._acquire(keys=[self._key(caller)], args=[self.lease_ms, limit, slot])
            except Exception:  # Redis down: count in this process rather than refuse every stream
                log.warning("subscription slots on Redis failed; counting locally", exc_info=True)
            else:
                if not taken:
                    return None
                self._held[slot] = (caller, True)
                return slot
        if not self._local.acquire(caller, limit):
            return None
        self._held[slot] = (caller, False)
        return slot

    async def release(self, slot: str) -> None:
        caller, on_redis = self._held.pop(slot, (None, False))
        if caller is None:
            return
        if not on_redis:
            self._local.release(caller)
            return
        try:
            await self.redis.zrem(self._key(caller), slot)
        except Exception:  # the lease runs out by itself when it is no longer renewed
            log.warning("could not release a subscription slot on Redis; it expires with its lease", exc_info=True)

    def held(self) -> int:
        """Slots held by this process's open streams."""
        return len(self._held)

    async def renew(self) -> None:
        """Extend the leases of every slot this process holds (one round trip)."""
        shared = [(self._key(caller), slot) for slot, (caller, on_redis) in self._held.items() if on_redis]
        if self._renew is None or not shared:
            return
        await self._renew(keys=[key for key, _ in shared], args=[self.lease_ms, *[slot for _, slot in shared]])

    async def run(self) -> None:
        """Renew the leases for as long as the process lives."""
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                await self.renew()
            except Exception:  # keep renewing: leases are long enough to survive a missed round
                log.warning("renewing subscription slot leases failed", exc_info=True)
