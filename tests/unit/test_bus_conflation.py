"""Subscription conflation: a slow snapshot reader gets the newest message per topic, never an overflow."""

from __future__ import annotations

import asyncio

import pytest

from brokerql.bus import Resync
from brokerql.bus.memory import MemoryBus


async def test_conflated_reader_keeps_only_the_newest_per_topic_in_first_unread_order() -> None:
    bus = MemoryBus(buffer_size=2)
    sub = await bus.subscribe(["quotes.A", "quotes.B"], conflate=True)
    for n in range(1000):  # far beyond the buffer: a queue would have overflowed
        await bus.publish("quotes.A", {"n": n})
        if n == 10:
            await bus.publish("quotes.B", {"n": -1})
    assert sub.pending == 2 and sub.superseded == 999
    assert await sub.get() == ("quotes.A", {"n": 999})
    assert await sub.get() == ("quotes.B", {"n": -1})
    assert await sub.get(timeout=0.01) is None
    await sub.close()


async def test_conflated_reader_wakes_on_the_next_message() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe(["quotes.A"], conflate=True)
    waiting = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    await bus.publish("quotes.A", {"n": 1})
    assert await asyncio.wait_for(waiting, 5) == ("quotes.A", {"n": 1})
    await bus.publish("quotes.A", {"n": 2})
    assert await sub.get() == ("quotes.A", {"n": 2})  # nothing stale is replayed after a read
    await sub.close()


async def test_conflation_is_per_subscriber_and_queues_stay_as_they_were() -> None:
    bus = MemoryBus(buffer_size=3)
    fast = await bus.subscribe(["quotes.A"])
    slow = await bus.subscribe(["quotes.A"], conflate=True)
    for n in range(3):
        await bus.publish("quotes.A", {"n": n})
    assert [(await fast.get())[1]["n"] for _ in range(3)] == [0, 1, 2]
    assert await slow.get() == ("quotes.A", {"n": 2})
    for n in range(4):
        await bus.publish("quotes.A", {"n": n})
    assert fast.overflowed and not slow.overflowed
    await fast.close()
    await slow.close()
    assert bus.hub.subscriber_count == 0


async def test_resync_reaches_every_topic_of_a_conflated_reader() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe(["quotes.A", "quotes.B"], conflate=True)
    await bus.publish("quotes.A", {"n": 1})
    for topic in ("quotes.A", "quotes.B"):  # what the Redis bus does after reconnecting
        bus.hub.resync(topic)
    with pytest.raises(Resync):  # once, out of band; it supersedes A's unread snapshot
        await sub.get(timeout=1)
    assert await sub.get(timeout=0.05) is None
    await bus.publish("quotes.B", {"n": 2})
    assert await sub.get(timeout=1) == ("quotes.B", {"n": 2})
    await sub.close()
