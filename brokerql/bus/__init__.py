"""Events between processes: one interface, an in-process and a Redis implementation."""

from brokerql.bus.base import Bus, Resync, SlowConsumer, Subscription
from brokerql.bus.factory import create_bus

__all__ = ["Bus", "Resync", "SlowConsumer", "Subscription", "create_bus"]
