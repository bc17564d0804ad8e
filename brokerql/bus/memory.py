"""The in-process bus of the embedded deployment: publishing is a direct fan-out."""

from __future__ import annotations

from brokerql.bus.base import Bus, Message


class MemoryBus(Bus):
    """Everything in one process: no serialisation, no network, nothing to lose but the process."""

    holds_retained = True

    def __init__(self, buffer_size: int = 1000) -> None:
        super().__init__(buffer_size)
        self._retained: dict[str, Message] = {}

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        if retain:
            self._retained[topic] = message
        self.hub.dispatch(topic, message)

    async def latest(self, topic: str) -> Message | None:
        return self._retained.get(topic)

    def peek(self, topic: str) -> Message | None:
        return self._retained.get(topic)

    async def ping(self) -> None:
        return None
