"""MarketData's mirror of the quote topics, for a bus that keeps retained messages in another process
(Redis; served end to end on Redis by tests/api/test_quote_read_cache.py): what `peek` and
`shown_snapshot` return, and a lost link emptying it rather than leaving snapshots that may be stale."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from brokerql.bus.memory import MemoryBus
from brokerql.bus.read_set import tracking
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.exchange.engine import quote_topic
from brokerql.services.market import MarketData
from tests.fakes import FakeClock


class RemoteRetainingBus(MemoryBus):
    """The in-process bus, but claiming what Redis claims: `peek` cannot see the retained messages."""

    holds_retained = False

    def peek(self, topic: str) -> None:
        return None


async def test_the_mirror_serves_snapshots_and_forgets_them_when_the_link_is_lost() -> None:
    bus = RemoteRetainingBus()
    market = MarketData(bus, dict(DEMO_INSTRUMENTS), FakeClock(datetime.now(UTC)))
    topic = quote_topic("600000")
    await bus.publish(topic, {"symbol": "600000", "n": 1}, retain=True)  # before start: GET only
    await market.start()
    try:
        assert market.peek(topic) is None
        assert (await market.shown_snapshot("600000")) == {"symbol": "600000", "n": 1}
        second = {"symbol": "600000", "n": 2}
        await bus.publish(topic, second, retain=True)
        await asyncio.sleep(0.01)
        assert market.peek(topic) is second
        with tracking() as reads:
            assert await market.shown_snapshot("600000") is second
        assert reads == [(topic, second)]  # what an answer kept per snapshot is checked against
        assert await market.snapshot("600000") == second  # orders: as the bus retains it, never the copy
        bus.hub.resync(topic)
        await asyncio.sleep(0.01)
        assert market.peek(topic) is None  # read through (a GET) until the next message
        assert (await market.shown_snapshot("600000"))["n"] == 2
    finally:
        await market.stop()
