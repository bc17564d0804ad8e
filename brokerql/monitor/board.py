"""The cluster's board of live processes (the NMS side): every process writes its stats with a TTL,
and whoever asks reads every process that has not expired.

- Scaled (Redis): one hash per process, `<prefix>:monitor:process:<id>` (field `stats`, msgspec JSON)
  with a TTL, and a sorted set `<prefix>:monitor:processes` of ids scored by their expiry, so a reader
  lists ids without scanning keys. A process that stops publishing disappears when its TTL ends.
- Embedded (in-process bus): a dict in memory, same expiry rule.

The board also elects the one process that evaluates alert rules (`lead`): a Redis key with the
leader's id and a TTL, taken when free and kept by refreshing it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any

import msgspec

from brokerql.monitor.messages import ProcessStats, decode_stats

# Take the leader key if it is free, or refresh it if it is ours; answer whether we hold it.
_LEAD_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


class Board(ABC):
    @abstractmethod
    async def publish(self, stats: ProcessStats, ttl: float) -> None: ...

    @abstractmethod
    async def processes(self) -> list[ProcessStats]: ...

    @abstractmethod
    async def remove(self, process_id: str) -> None: ...

    @abstractmethod
    async def lead(self, process_id: str, ttl: float) -> bool:
        """Whether `process_id` is (now) the one process that evaluates alerts."""


class MemoryBoard(Board):
    def __init__(self, clock: Any = time.time) -> None:
        self.clock = clock
        self._entries: dict[str, tuple[float, ProcessStats]] = {}

    async def publish(self, stats: ProcessStats, ttl: float) -> None:
        self._entries[stats.id] = (self.clock() + ttl, stats)

    async def processes(self) -> list[ProcessStats]:
        now = self.clock()
        self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        return sorted((s for _e, s in self._entries.values()), key=lambda s: (s.role, s.id))

    async def remove(self, process_id: str) -> None:
        self._entries.pop(process_id, None)

    async def lead(self, process_id: str, ttl: float) -> bool:
        return True  # one process: it leads


class RedisBoard(Board):
    def __init__(self, client: Any, prefix: str, clock: Any = time.time) -> None:
        self.client = client
        self.clock = clock
        self.index = f"{prefix}:monitor:processes"
        self.leader = f"{prefix}:monitor:leader"
        self._key = f"{prefix}:monitor:process:"
        self._lead = client.register_script(_LEAD_SCRIPT)

    async def publish(self, stats: ProcessStats, ttl: float) -> None:
        key = self._key + stats.id
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"stats": msgspec.json.encode(stats), "role": stats.role})
            pipe.pexpire(key, int(ttl * 1000))
            pipe.zadd(self.index, {stats.id: self.clock() + ttl})
            await pipe.execute()

    async def processes(self) -> list[ProcessStats]:
        now = self.clock()
        await self.client.zremrangebyscore(self.index, "-inf", now)
        ids = [i.decode() for i in await self.client.zrangebyscore(self.index, now, "+inf")]
        if not ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for process_id in ids:
                pipe.hget(self._key + process_id, "stats")
            raw = await pipe.execute()
        found = [decode_stats(data) for data in raw if data is not None]  # None: expired just now
        return sorted(found, key=lambda s: (s.role, s.id))

    async def remove(self, process_id: str) -> None:
        await self.client.delete(self._key + process_id)
        await self.client.zrem(self.index, process_id)

    async def lead(self, process_id: str, ttl: float) -> bool:
        return bool(await self._lead(keys=[self.leader], args=[process_id, int(ttl * 1000)]))
