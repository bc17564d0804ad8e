"""Pick the bus implementation from the settings."""

from __future__ import annotations

from brokerql.bus.base import Bus
from brokerql.settings import Settings


def create_bus(settings: Settings) -> Bus:
    if settings.redis_url:
        from brokerql.bus.redis import RedisBus

        return RedisBus(
            settings.redis_url,
            prefix=settings.redis_prefix,
            buffer_size=settings.subscriber_buffer,
            max_connections=settings.redis_max_connections,
            pool_timeout=settings.redis_pool_timeout_seconds,
        )
    from brokerql.bus.memory import MemoryBus

    return MemoryBus(buffer_size=settings.subscriber_buffer)
