"""Every process's tier cache follows tier changes as they commit, instead of re-reading each client's
tier every second.

A tier change (`services/identity/audit.tier_changed`: a level change, a trial, a new client) emits a
`ClientTierChanged` through the outbox in the transaction that makes it; here each process takes the
new tier into its cache (`AuthService.take_tier`) as the message arrives. Orders, limits, entitlements
and open streams then see a downgrade within the bus's delivery time, and the cache's TTL
(`BROKERQL_TIER_CACHE_SECONDS`) only bounds how long an edit made outside BrokerQL goes unseen. When the
bus link was lost (`Resync`) or this watch fell behind, every cached tier is forgotten and read afresh.
"""

from __future__ import annotations

import asyncio
import logging

from brokerql.bus import Bus, Resync, SlowConsumer
from brokerql.bus.topics import CLIENT_TIERS_TOPIC
from brokerql.domain.identity.tiers import ClientTierChanged
from brokerql.services.auth import AuthService

log = logging.getLogger(__name__)


class TierNotices:
    """Takes each committed tier change into this process's tier cache."""

    def __init__(self, bus: Bus, auth: AuthService, *, retry_seconds: float = 1.0) -> None:
        self.bus, self.auth, self.retry_seconds = bus, auth, retry_seconds
        self.listening = asyncio.Event()  # set once the subscription is open (tests wait for it)

    async def run(self) -> None:
        while True:
            try:
                async with await self.bus.subscribe([CLIENT_TIERS_TOPIC], maxsize=10_000) as subscription:
                    self.auth.forget_tiers()  # what changed while no one listened is read afresh
                    self.listening.set()
                    while True:
                        try:
                            _topic, message = await subscription.get()  # type: ignore[misc]
                        except Resync:
                            self.auth.forget_tiers()
                            continue
                        if isinstance(message, ClientTierChanged):
                            self.auth.take_tier(message.client_id, message.tier)
            except asyncio.CancelledError:
                raise
            except SlowConsumer:
                log.warning("tier notices fell behind; every cached tier is read afresh")
            except Exception:  # the bus is away: the TTL bounds staleness meanwhile
                log.exception("tier notices failed; resubscribing")
                await asyncio.sleep(self.retry_seconds)
            finally:
                self.listening.clear()
