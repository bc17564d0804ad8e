"""A bus outage must not stop the simulated market: quotes resume, in full, when the bus is back."""

from __future__ import annotations

import asyncio

from brokerql.bus.memory import MemoryBus
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.exchange.engine import Exchange, quote_topic


class FlakyBus(MemoryBus):
    """An in-process bus that can be switched off, and that forgets retained messages on the way back."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def publish(self, topic, message, *, retain=False):  # type: ignore[no-untyped-def]
        if self.down:
            raise ConnectionError("bus down")
        await super().publish(topic, message, retain=retain)

    def restart_empty(self) -> None:
        self._retained.clear()
        self.down = False


async def test_quotes_resume_in_full_after_the_bus_comes_back() -> None:
    bus = FlakyBus()
    exchange = Exchange(DEMO_INSTRUMENTS, bus, seed=7, tick_seconds=0.01, warmup_steps=5)
    await exchange.start()
    try:
        assert await bus.latest(quote_topic("600000")) is not None
        bus.down = True
        await asyncio.sleep(0.1)  # several failing ticks
        bus.restart_empty()

        async def all_back() -> bool:
            return all([await bus.latest(quote_topic(s)) is not None for s in DEMO_INSTRUMENTS])

        for _ in range(200):
            if await all_back():
                break
            await asyncio.sleep(0.02)
        assert await all_back(), "every instrument's snapshot is republished after the outage"
        assert all(not t.done() for t in exchange._tasks), "no exchange task died during the outage"
    finally:
        await exchange.stop()
