"""monitorStats as a stream: the whole view at once, then every monitor interval, and at once when an
alert is raised or cleared anywhere in the cluster."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

import strawberry

from brokerql.bus import Resync
from brokerql.domain.identity.roles import Permission as P
from brokerql.monitor.alerting import ALERTS_TOPIC
from brokerql.resolvers.guards import require_operator
from brokerql.resolvers.monitor import read_stats
from brokerql.schema.types.monitor import MonitorStats
from brokerql.subscriptions.guard import ensure_live, subscription_slot


async def monitor_stats(info: strawberry.Info) -> AsyncGenerator[MonitorStats, None]:
    principal = await require_operator(info, P.MONITOR_READ)
    container = info.context.container
    async with subscription_slot(info, principal):
        subscription = await container.bus.subscribe([ALERTS_TOPIC], conflate=True)
        async with subscription:
            while True:
                yield await read_stats(info)
                with contextlib.suppress(Resync):  # a lost alert notice: the next view is read anyway
                    await subscription.get(timeout=container.settings.monitor_interval_seconds)
                await ensure_live(info)  # a revoked or expired operator session ends the stream
