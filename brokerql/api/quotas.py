"""Edge quotas (E1): cost points per minute per caller, and attempts per address.

- Cost budget: a leaky bucket per caller, holding `requests_per_minute x cost_points_per_request` points
  of its tier (operators and partners: their settings; anonymous callers: per address) and leaking at
  that many per minute. Each operation pours in its estimated cost before it runs.
- Attempts: every login, operator login, certificate login, OTP check, SMS code request, trial
  registration (SMS code check) and captcha request is counted per address and action, one per
  resolver call, so N attempts in N aliases of one document count N.
- Spraying: failed attempts at distinct login names from one address. From `spray_captcha_names`
  names on, every attempt from the address needs a captcha; from `spray_block_names` the address is
  refused (RATE_LIMITED) for `spray_block_minutes`.
- One check at a time per login name: a second attempt at a name whose attempt is still being checked
  is refused at once, so a burst of parallel guesses cannot get past the per-name captcha and lockout
  (which count sequentially) with extra guesses.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from brokerql.api.counters import MemoryCounters, RedisCounters
from brokerql.domain.common import Rejection
from brokerql.domain.identity.rate_limit import scaled
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.settings import Settings
from brokerql.store.database import Database

T = TypeVar("T")
NAMED_ACTIONS = frozenset({"login", "operatorLogin"})
INFLIGHT_SECONDS = 30
CAPTCHA_REQUIRED = Rejection("CAPTCHA_REQUIRED", "Enter the captcha (requestCaptcha) to continue.", "captchaAnswer")


def rate_limited(message: str, retry_after: float, **extra: Any) -> CodedError:
    return CodedError(ErrorCode.RATE_LIMITED, message, retryAfter=max(1, math.ceil(retry_after)), **extra)


@dataclass(frozen=True, slots=True)
class Throttle:
    """A bucket's state after a charge: what `extensions.cost.throttleStatus` and RateLimit-* report."""

    capacity: int
    level: float
    rate_per_second: float
    allowed: bool = True
    wait_seconds: float = 0.0

    def status(self) -> dict[str, Any]:
        available = max(0, math.floor(self.capacity - self.level))
        return {"maximumAvailable": self.capacity, "currentlyAvailable": available, "restoreRate": self.restore}

    @property
    def restore(self) -> float:
        return round(self.rate_per_second, 3)

    def headers(self) -> dict[str, str]:
        reset = math.ceil(self.level / self.rate_per_second) if self.rate_per_second else 0
        available = max(0, math.floor(self.capacity - self.level))
        return {
            "RateLimit-Limit": str(self.capacity),
            "RateLimit-Remaining": str(available),
            "RateLimit-Reset": str(reset),
        }


class CostBudgets:
    def __init__(self, counters: MemoryCounters | RedisCounters, settings: Settings) -> None:
        self.counters = counters
        self.settings = settings

    def anonymous_budget(self) -> int:
        s = self.settings
        return scaled(s.anonymous_requests_per_minute, s.rate_limit_scale) * s.cost_points_per_request

    async def charge(self, key: str, requests_per_minute: int, cost: int) -> Throttle:
        """Pour `cost` into the caller's bucket (refused, and nothing poured, when it would overflow)."""
        capacity = max(1, requests_per_minute * self.settings.cost_points_per_request)
        rate = capacity / 60
        allowed, level, wait = await self.counters.leak(f"cost:{key}", cost, capacity, rate)
        return Throttle(capacity, level, rate, allowed, wait)


class Attempts:
    def __init__(self, counters: MemoryCounters | RedisCounters, settings: Settings, db: Database, captchas: Any):
        self.counters = counters
        self.settings = settings
        self.db = db
        self.captchas = captchas

    async def guard(
        self,
        address: str,
        action: str,
        name: str | None,
        call: Callable[[], Awaitable[T]],
        refuse: Callable[[Rejection], T],
        captcha: tuple[str | None, str | None] = (None, None),
    ) -> T:
        """Run one attempt (`call`) if the address may make it; `refuse` builds the payload of a refusal."""
        s = self.settings
        blocked = await self.counters.ttl(f"block:{address}")
        if blocked > 0:
            raise rate_limited("Too many failed attempts from your address; try again later.", blocked)
        count, window_left = await self.counters.hit(f"attempts:{action}:{address}", 60)
        limit = scaled(s.attempts_per_minute, s.rate_limit_scale)
        if count > limit:
            raise rate_limited(
                f"At most {limit} {action} attempts a minute from one address.", window_left, limit=limit
            )
        if name is None or action not in NAMED_ACTIONS:
            return await call()
        if await self.counters.ttl(f"captcha:{address}") > 0 and not await self._captcha_ok(*captcha):
            await self._failed(address, f"{action}:{name.lower()}")  # a script that cannot read captchas is walked
            return refuse(CAPTCHA_REQUIRED)  # into the block instead of retrying for ever
        inflight = f"inflight:{action}:{name.lower()}"
        if not await self.counters.set_flag(inflight, INFLIGHT_SECONDS):
            raise rate_limited("Another attempt for this login is being checked; try again in a moment.", 1)
        try:
            result = await call()
        finally:
            await self.counters.clear(inflight)
        if getattr(result, "errors", None):
            await self._failed(address, f"{action}:{name.lower()}")
        return result

    async def _captcha_ok(self, captcha_id: str | None, answer: str | None) -> bool:
        async with self.db.transaction() as uow:
            return await self.captchas.consume(uow, captcha_id, answer)

    async def _failed(self, address: str, name: str) -> None:
        s = self.settings
        window = s.spray_window_minutes * 60
        names = await self.counters.add_member(f"names:{address}", name, window)
        if names >= scaled(s.spray_block_names, s.rate_limit_scale):
            await self.counters.set_flag(f"block:{address}", s.spray_block_minutes * 60)
        elif names >= scaled(s.spray_captcha_names, s.rate_limit_scale):
            await self.counters.set_flag(f"captcha:{address}", window)
