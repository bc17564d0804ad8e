"""A4 limits enforced per caller: HTTP GraphQL operations per minute and concurrent subscriptions.

Clients get their tier's `limits` (the tier table, edited with editTier); operators and partners get
the generous limits of the settings. Every limit is multiplied by `rate_limit_scale` (tests raise it).

Request counts live in this process, or on Redis when a Redis bus is configured, so that every API
process draws on one budget per client: one key per client per one-minute window (two windows' expiry),
which each process leases allowance from ahead of use, so that most requests make no round trip
(services/allowances.py: the bound). If Redis fails the process counts locally until it answers again
(fail open: a Redis outage must not refuse every request). Subscription slots are shared the same way, as leases
that a crashed process's slots outlive by at most one lease (services/identity/slots.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from brokerql.domain.clock import Clock
from brokerql.domain.identity.rate_limit import (
    WINDOW_SECONDS,
    Decision,
    WindowCounts,
    decide,
    scaled,
    window_of,
)
from brokerql.domain.identity.tiers import TierCode, TierLimits
from brokerql.services.allowances import Allowances
from brokerql.services.auth import AuthService
from brokerql.services.identity.slots import SubscriptionSlots
from brokerql.services.identity.tiers import TierCatalogStore
from brokerql.services.tokens import Principal
from brokerql.settings import Settings


class TooManySubscriptions(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class RateLimits:
    def __init__(
        self,
        settings: Settings,
        tiers: TierCatalogStore,
        auth: AuthService,
        clock: Clock,
        redis: Any = None,
        allowances: Allowances | None = None,
    ) -> None:
        self.settings = settings
        self.tiers = tiers
        self.auth = auth
        self.clock = clock
        # on Redis: leased (without a settling Container: one round trip a request); None: in this process
        self.allowances = allowances or (Allowances(redis, settle_seconds=0) if redis is not None else None)
        self.prefix = f"{settings.redis_prefix}:ratelimit"
        self._requests = WindowCounts()
        self.slots = SubscriptionSlots(
            redis, prefix=settings.redis_prefix, lease_seconds=settings.subscription_slot_ttl_seconds
        )

    async def limits_for(self, principal: Principal) -> TierLimits:
        s = self.settings
        if principal.kind == "operator":
            base = TierLimits(s.operator_requests_per_minute, s.operator_max_subscriptions)
        elif principal.kind == "partner":
            base = TierLimits(s.partner_requests_per_minute, s.partner_max_subscriptions)
        else:
            base = self.tiers.tier(TierCode(await self.auth.tier_of(principal.subject_id))).limits
        scale = s.rate_limit_scale
        return TierLimits(scaled(base.requests_per_minute, scale), scaled(base.max_subscriptions, scale))

    async def check_request(self, principal: Principal) -> Decision:
        """Count one HTTP GraphQL operation of the caller and say whether it may run."""
        limits = await self.limits_for(principal)
        window = window_of(self.clock.now(), WINDOW_SECONDS)
        key = f"{principal.kind}:{principal.subject_id}"
        count = await self._count(key, window.number, limits.requests_per_minute)
        if count is None:
            count = self._requests.hit(key, window)
        return decide(count, limits.requests_per_minute, window)

    async def _count(self, key: str, window_number: int, limit: int) -> int | None:
        """The caller's count in the window with this request, on Redis (None: count in this process)."""
        if self.allowances is None:
            return None
        grant = await self.allowances.count(f"{self.prefix}:{key}:{window_number}", limit, WINDOW_SECONDS)
        return None if grant is None else round(grant.level)

    @contextlib.asynccontextmanager
    async def subscription(self, principal: Principal) -> AsyncIterator[None]:
        """Hold one of the caller's subscription slots while the stream is open."""
        limit = (await self.limits_for(principal)).max_subscriptions
        key = f"{principal.kind}:{principal.subject_id}"
        slot = await self.slots.acquire(key, limit)
        if slot is None:
            raise TooManySubscriptions(limit)
        try:
            yield
        finally:
            await asyncio.shield(self.slots.release(slot))  # also when the stream is cancelled
