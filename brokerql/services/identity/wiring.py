"""Builds the identity services of one process and their background refresh (revocations, tiers)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.identity.passwords import Passwords
from brokerql.domain.identity.sms import LoggingSmsSender, SmsSender
from brokerql.domain.identity.tiers import DEMO_TIER_CATALOG, TierCode
from brokerql.services.allowances import Allowances
from brokerql.services.auth import AuthService
from brokerql.services.identity.backoffice import BackOffice
from brokerql.services.identity.caches import roles_cache, session_rows, tier_cache
from brokerql.services.identity.clients import ClientDirectory
from brokerql.services.identity.grading import Grading
from brokerql.services.identity.guard import Captchas, purge_stale_guards
from brokerql.services.identity.levels import LevelWorkflow
from brokerql.services.identity.limits import RateLimits
from brokerql.services.identity.onboarding import Onboarding
from brokerql.services.identity.operators import Operators
from brokerql.services.identity.params import SystemParameters
from brokerql.services.identity.partners import Partners
from brokerql.services.identity.second_factors import SecondFactors
from brokerql.services.identity.sessions import SessionGate
from brokerql.services.identity.tiers import TierCatalogStore
from brokerql.services.identity.trial import TrialRegistration
from brokerql.services.tokens import AccessTokens, RefreshTokens
from brokerql.settings import Environment, Settings
from brokerql.store.database import Database

GUARD_PURGE_INTERVAL = timedelta(hours=1)
log = logging.getLogger(__name__)


@dataclass
class IdentityServices:
    """Everything identity-related a resolver may call: container.identity.<service>."""

    settings: Settings
    auth: AuthService
    sessions: SessionGate
    params: SystemParameters
    captchas: Captchas
    second_factors: SecondFactors
    trial: TrialRegistration
    operators: Operators
    tiers: TierCatalogStore
    clients: ClientDirectory
    onboarding: Onboarding
    backoffice: BackOffice
    grading: Grading
    levels: LevelWorkflow
    partners: Partners
    limits: RateLimits
    clock: Clock

    @classmethod
    def build(
        cls,
        settings: Settings,
        db: Database,
        passwords: Passwords,
        access: AccessTokens,
        refresh: RefreshTokens,
        *,
        clock: Clock = SYSTEM_CLOCK,
        sms_sender: SmsSender | None = None,
        redis: Any = None,
        allowances: Allowances | None = None,
    ) -> IdentityServices:
        sessions = SessionGate(db, clock, access.lifetime, session_rows(settings, db))
        params = SystemParameters(db)
        captchas = Captchas(db, clock)
        auth = AuthService(
            db,
            passwords,
            access,
            refresh,
            sessions=sessions,
            params=params,
            captchas=captchas,
            clock=clock,
            tier_cache=tier_cache(settings),
        )
        sender = sms_sender or LoggingSmsSender(reveal_codes=settings.env is Environment.DEVELOPMENT)
        tiers = TierCatalogStore(db, DEMO_TIER_CATALOG)
        grading = Grading(db, params, clock)
        auth.catalog_grants = lambda tier, key: tiers.grants(TierCode(tier), key)
        return cls(
            settings=settings,
            auth=auth,
            sessions=sessions,
            params=params,
            captchas=captchas,
            second_factors=SecondFactors(auth),
            trial=TrialRegistration(auth, sender),
            operators=Operators(db, passwords, sessions, roles_cache(settings)),
            tiers=tiers,
            clients=ClientDirectory(db, auth, clock),
            onboarding=Onboarding(db, passwords, tiers, clock),
            backoffice=BackOffice(db, params, sessions, clock),
            grading=grading,
            levels=LevelWorkflow(db, auth, params, clock, grading),
            partners=Partners(db, access, sessions, clock),
            limits=RateLimits(settings, tiers, auth, clock, redis, allowances),
            clock=clock,
        )

    async def start(self) -> list[asyncio.Task[None]]:
        """Load what must be current before the first request, then keep it current."""
        try:
            await self.tiers.refresh()
            await self.sessions.poll()
        except Exception:  # an unmigrated database: the built-in catalog serves until it is migrated
            log.exception("could not load identity state at start-up")
        return [
            asyncio.create_task(self._refresh_loop(), name="identity-refresh"),
            asyncio.create_task(self.limits.slots.run(), name="subscription-slot-leases"),
        ]

    async def _refresh_loop(self) -> None:
        interval = self.settings.revocation_poll_seconds
        next_purge = self.clock.now()
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sessions.poll()
                await self.tiers.refresh()
                if self.clock.now() >= next_purge:  # hourly: failed-login rows of unknown names, the day's assets
                    next_purge = self.clock.now() + GUARD_PURGE_INTERVAL
                    await purge_stale_guards(self.auth.db, self.clock.now())
                    await self.grading.record_daily_assets()
            except Exception:  # keep polling: one failure must not freeze revocations for ever
                log.exception("identity refresh failed")
