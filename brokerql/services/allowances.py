"""Rate limits and cost budgets shared over Redis without a round trip per request: leased allowance.

Every API process of a scaled deployment must draw on one budget per caller: the A4 request count of
the minute (services/identity/limits.py) and the E1 cost bucket (api/counters.py). Asking Redis on
every request cost two round trips a request, a fifth of a worker's time. Instead a process leases
allowance from Redis ahead of use and spends it in memory:

- A lease is taken by the same Lua script that counts a request exactly: it adds the lease to the
  caller's count (or pours it into the caller's bucket) as if the requests had come already, and it
  grants at most 1/LEASE_SHARE of the room left under the limit, so that processes leasing at the same
  time leave room for each other; near the limit (room < LEASE_SHARE requests) nothing is leased and
  every request is counted by its own round trip, as before.
- A request the process's lease covers is admitted with no round trip. One that it does not cover makes
  one round trip (concurrent ones of a caller wait for it: one at a time per caller) that counts it and
  takes the next lease.
- Every `settle_seconds` (0.1 s) one background pipeline tops up the leases of the callers served in the
  last interval (enough for two intervals at that pace), gives back what callers idle for IDLE_SECONDS
  left unspent, and renews cost leases older than LEASE_SECONDS (see the bound). On shutdown every unspent
  lease is given back.

Why leases and not counting locally and adding the counts to Redis later: a count settled later lets
every process admit on a stale view of the others, so a burst through N processes could pass the limit
by up to a share of it per process. A lease is counted in Redis before anything it admits, so:

- Request counts (fixed windows) are never exceeded: a process admits only what Redis counted already.
- Cost buckets: a leased point is poured when leased, not when spent, and a bucket leaks only while it is
  not empty; leased points may let it leak while the spent points alone would have left it empty. So all
  processes together may admit at most what the bucket leaks in one lease's life: rate x (LEASE_SECONDS +
  settle_seconds, plus any delay of the settlement itself), i.e. (1.1 / 60) of the capacity, 1.8%.
- A tier edit that lowers a limit applies to the next leases; allowance leased under the old limit may
  still be spent (at most 1/LEASE_SHARE of the old room per lease, for at most IDLE_SECONDS or the minute).
- The other way (refusing early): a caller may be refused while other processes hold leases it has not
  spent, at most 1/LEASE_SHARE of the room left at each grant, and only while it is busy on them (an
  idle caller's leases come back within IDLE_SECONDS + settle_seconds). A process that dies loses its
  leases until the window ends or the bucket leaks them. `RateLimit-*` and `throttleStatus` are this
  process's view: Redis's level less its own unspent lease, so they may overstate the level by the
  others' unspent leases, never understate it by more than the leak bound.

If Redis fails, the caller counts in this process (fail open, as before); a settlement that fails keeps
its give-backs for the next one, so nothing counted is lost. `settle_seconds` 0 turns leases off (one
round trip per request, as before the leases).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brokerql.domain.identity.rate_limit import LEASE_SHARE, lease_wanted
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)

STOP_SECONDS = 5.0  # how long stopping waits for a settlement under way
IDLE_SECONDS = 1.0  # a caller's unspent lease is given back once it made no request for this long
LEASE_SECONDS = 1.0  # a cost lease is given back and taken again once this old (the leak bound)

# Both scripts: KEYS[1] = the counter; ARGV = give back, need, want, share, now, limit, then the window's
# seconds or the bucket's leak per second. Return {allowed, level x 1000, wait ms, lease}: `need` is
# counted only if it fits under the limit, and a lease (at most `want`, at most room/share) only then.
WINDOW = """
local back, need, want, share = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local limit = tonumber(ARGV[6])
local count = math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') - back)
if count + need > limit then
  redis.call('SET', KEYS[1], count, 'EX', 2 * tonumber(ARGV[7]))
  return {0, (count + need) * 1000, 0, 0}
end
local lease = math.max(0, math.min(want, math.floor((limit - count - need) / share)))
count = count + need + lease
redis.call('SET', KEYS[1], count, 'EX', 2 * tonumber(ARGV[7]))
return {1, count * 1000, 0, lease}
"""

BUCKET = """
local back, need, want, share = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now, capacity, rate = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local level = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local at = tonumber(redis.call('HGET', KEYS[1], 't') or ARGV[5])
level = math.max(0, level - math.max(0, now - at) * rate - back)
local allowed, wait, lease = 0, 0, 0
if level + need <= capacity then
  allowed = 1
  level = level + need
  lease = math.max(0, math.min(want, math.floor((capacity - level) / share)))
  level = level + lease
else
  wait = math.ceil((level + need - capacity) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'l', tostring(level), 't', tostring(math.max(now, at)))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {allowed, math.floor(level * 1000), wait, lease}
"""


@dataclass(frozen=True, slots=True)
class Grant:
    """One counter's answer: allowed, its level after (this process's view), seconds to wait if refused."""

    allowed: bool
    level: float
    wait_seconds: float = 0.0


@dataclass(slots=True)
class Lease:
    """What this process holds of one counter (a caller's window or bucket) and what it knows of it."""

    key: str
    script: Any
    limit: float
    second: float  # the window's seconds, or the bucket's leak per second
    leaks: bool  # a bucket (its lease is renewed when old; see the bound)
    clock: Callable[[], float]
    held: float = 0.0  # leased and not yet spent
    used: float = 0.0  # spent since the last settlement
    used_at: float = 0.0  # monotonic
    granted_at: float = 0.0  # monotonic: when `held` last went up from nothing (or was renewed)
    seen: float = 0.0  # the counter on Redis at the last answer (with every process's leases)
    seen_at: float = 0.0  # `clock` then
    answer: asyncio.Future[None] | None = None  # a round trip for this counter under way

    def args(self, back: float, need: float, want: float, now: float) -> list[float]:
        return [back, need, want, LEASE_SHARE, now, self.limit, self.second]

    def level(self, now: float) -> float:
        """The counter as this process sees it: Redis's at the last answer, leaked since, less its lease."""
        leaked = max(0.0, now - self.seen_at) * self.second if self.leaks else 0.0
        return max(0.0, self.seen - leaked - self.held)

    def spend(self, amount: float) -> None:
        self.held -= amount
        self.used += amount
        self.used_at = time.monotonic()

    def receive(self, reply: list[Any], now: float) -> tuple[bool, float]:
        allowed, level, wait, lease = reply
        if lease and self.held <= 0:
            self.granted_at = time.monotonic()
        self.held += float(lease)
        self.seen, self.seen_at = int(level) / 1000, now
        return bool(allowed), int(wait) / 1000


class Allowances:
    """The leases of one process, and the task that settles them with Redis (owned by the Container)."""

    def __init__(self, redis: Any, settle_seconds: float = 0.1) -> None:
        self.redis = redis
        self.settle_seconds = settle_seconds
        self._window = redis.register_script(WINDOW)
        self._bucket = redis.register_script(BUCKET)
        self._leases: dict[str, Lease] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def count(self, key: str, limit: int, window_seconds: int) -> Grant | None:
        """Count one request in a fixed window (`key` names the window); None when Redis failed."""

        def new() -> Lease:
            return Lease(key, self._window, limit, window_seconds, False, time.time)

        def bounds(lease: Lease) -> None:
            lease.limit = limit  # a tier edit applies at once

        return await self._take(key, 1, new, bounds)

    async def pour(
        self, key: str, cost: float, capacity: float, rate: float, clock: Callable[[], float]
    ) -> Grant | None:
        """Pour `cost` into a leaky bucket (nothing when it would overflow); None when Redis failed."""

        def new() -> Lease:
            return Lease(key, self._bucket, capacity, rate, True, clock)

        def bounds(lease: Lease) -> None:
            lease.limit, lease.second = capacity, rate

        return await self._take(key, cost, new, bounds)

    async def _take(
        self, key: str, need: float, new: Callable[[], Lease], bounds: Callable[[Lease], None]
    ) -> Grant | None:
        while True:  # looked up again after a wait: a settlement may have dropped an idle caller's lease
            lease = self._leases.get(key)
            if lease is None:
                lease = self._leases[key] = new()
            bounds(lease)
            if lease.held >= need or lease.answer is None:
                break
            await asyncio.shield(lease.answer)  # its lease may cover this request too
        now = lease.clock()
        if lease.held >= need:
            lease.spend(need)
            return Grant(True, lease.level(now))
        back, lease.held = lease.held, 0.0
        want = lease_wanted(lease.used, 0.0, need) if self.settle_seconds > 0 else 0.0
        lease.answer = asyncio.get_running_loop().create_future()
        try:
            reply = await lease.script(keys=[lease.key], args=lease.args(back, need, want, now))
        except Exception:  # Redis down: the caller counts in this process
            lease.held += back
            log.warning("rate counter on Redis failed; counting locally", exc_info=True)
            return None
        finally:
            lease.answer.set_result(None)
            lease.answer = None
        allowed, wait = lease.receive(reply, now)
        if allowed:
            lease.used += need
            lease.used_at = time.monotonic()
        return Grant(allowed, lease.level(now), wait)

    def unspent(self) -> float:
        """Allowance this process holds and has not spent yet (what a flush would give back)."""
        return sum(lease.held for lease in self._leases.values())

    # -- settlement ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self.settle_seconds > 0:
            self._task = asyncio.create_task(self._run(), name="allowance-settlement")

    async def stop(self) -> None:
        """Stop settling, then give back every unspent lease (before the Redis client closes).

        A settlement under way is let finish rather than cancelled: cancelled after Redis applied its
        pipeline but before the replies were read, a top-up would stay counted on Redis without this
        process knowing it held it, so it would never be given back (the caller refused early for the
        rest of the window). A Redis that does not answer within STOP_SECONDS gets the cancellation."""
        if self._task is not None:
            self._stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_SECONDS)
            except TimeoutError:
                await stop_tasks([self._task])
            self._task = None
        await self.settle(flush=True)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):  # the interval passed: settle
                await asyncio.wait_for(self._stopping.wait(), self.settle_seconds)
            if self._stopping.is_set():
                return
            try:
                await self.settle()
            except Exception:  # keep settling: without top-ups every request would make its round trip
                log.exception("settling rate counters failed")

    def _plan(self, flush: bool) -> tuple[list[tuple[Lease, float, float]], list[Lease]]:
        """(lease, give back, want) for every counter that needs a word with Redis, and the idle leases
        to drop once what they hold is back (a request meanwhile waits for that rather than counting
        on Redis before the give-back, which could refuse it early)."""
        now = time.monotonic()
        plan, idle = [], []
        for key, lease in list(self._leases.items()):
            if lease.answer is not None:
                continue  # its own round trip is under way
            if flush or now - lease.used_at >= IDLE_SECONDS:
                idle.append(lease)
                if lease.held > 0:
                    plan.append((lease, lease.held, 0.0))
                    lease.held = 0.0
                else:
                    del self._leases[key]
                continue
            old = lease.leaks and lease.held > 0 and now - lease.granted_at >= LEASE_SECONDS
            back = lease.held if old else 0.0
            want = lease_wanted(lease.used, lease.held - back, 1) if lease.used > 0 else 0.0
            lease.used = 0.0
            if back or want:
                lease.held -= back
                plan.append((lease, back, want))
        return plan, idle

    async def settle(self, *, flush: bool = False) -> None:
        """One pipeline: top up busy callers' leases, give back idle ones' (all of them when `flush`)."""
        plan, idle = self._plan(flush)
        if not plan:
            return
        answer = asyncio.get_running_loop().create_future()
        stamps = []
        for lease, _, _ in plan:
            lease.answer = answer
            stamps.append(lease.clock())
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for (lease, back, want), now in zip(plan, stamps, strict=True):
                    await lease.script(keys=[lease.key], args=lease.args(back, 0, want, now), client=pipe)
                replies = await pipe.execute()
            for (lease, _, _), now, reply in zip(plan, stamps, replies, strict=True):
                lease.receive(reply, now)
            for lease in idle:  # given back: the caller's next request starts a lease afresh
                if self._leases.get(lease.key) is lease:
                    del self._leases[lease.key]
        except Exception:  # keep what was to be given back for the next settlement
            log.warning("settling rate counters with Redis failed; retrying", exc_info=True)
            for lease, back, _ in plan:
                lease.held += back
        finally:  # waiters resume after all of the above (no await in between)
            for lease, _, _ in plan:
                lease.answer = None
            answer.set_result(None)
