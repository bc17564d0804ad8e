"""The bus interface and the per-process fan-out hub that both implementations share.

Topics are dotted names: `account.<id>` (an account's order events), `exchange.commands` (orders and
cancels for the exchange), `quotes.<symbol>` (market snapshots). A process holds at most one upstream
subscription per topic and fans each message out to its local subscribers.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from brokerql.bus import codec

# A message is a typed object registered in the codec (commands, execution reports, account events), or a
# market-data snapshot (a JSON-able dict built once by the exchange for every subscriber).
Message = Any


class SlowConsumer(Exception):
    """The subscriber's bounded buffer overflowed; it must resubscribe from its last known position."""


class Resync(Exception):
    """Out of band: the upstream link was lost and re-established, so what was published meanwhile may be
    missing. Consumers with a durable source (the database) re-read from it; quote readers take the latest.

    Raised by `Subscription.get` once per loss, never mixed into the data.
    """


class Subscription:
    """A local subscriber: a bounded queue of (topic, message). Never grows without bound.

    With `conflate`, the subscriber keeps only the newest unread message of each topic instead of a
    queue (for snapshots such as quotes, where a newer one supersedes the older): a slow reader skips
    intermediate versions and never overflows. Topics come out in the order they first became unread.
    """

    def __init__(self, hub: Hub, topics: Iterable[str], maxsize: int, *, conflate: bool = False) -> None:
        self.hub = hub
        self.topics = tuple(topics)
        self.queue: asyncio.Queue[tuple[str, Message]] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.closed = False
        self.conflate = conflate
        self.superseded = 0  # conflation: unread messages replaced by a newer one of the same topic
        self.resync_pending = False
        self._latest: dict[str, Message] = {}
        self._ready = asyncio.Event()
        self._resync_event = asyncio.Event()

    def signal_resync(self) -> None:
        """The link was lost: the next `get` raises Resync (conflated: unread snapshots are dropped too,
        since the reader re-reads the latest anyway)."""
        self.resync_pending = True
        if self.conflate:
            self._latest.clear()
            self._ready.set()
        self._resync_event.set()

    def deliver(self, topic: str, message: Message) -> None:
        if self.conflate:
            if topic in self._latest:
                self.superseded += 1
            self._latest[topic] = message  # replacing a key keeps its place in the order
            self._ready.set()
            return
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((topic, message))
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self, timeout: float | None = None) -> tuple[str, Message] | None:
        """The next message, or None when `timeout` passes first.

        Raises SlowConsumer after an overflow, and Resync (once) after the upstream link was lost."""
        self._raise_resync()
        if self.conflate:
            return await self._next_latest(timeout)
        if self.overflowed:
            raise SlowConsumer()
        if not self.queue.empty():
            return self.queue.get_nowait()
        getter = asyncio.ensure_future(self.queue.get())
        signal = asyncio.ensure_future(self._resync_event.wait())
        try:
            await asyncio.wait({getter, signal}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            signal.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        self._raise_resync()
        return None

    def _raise_resync(self) -> None:
        if self.resync_pending:
            self.resync_pending = False
            self._resync_event.clear()
            raise Resync()

    async def _next_latest(self, timeout: float | None) -> tuple[str, Message] | None:
        while not self._latest:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return None
            self._raise_resync()
        topic = next(iter(self._latest))
        return topic, self._latest.pop(topic)

    @property
    def pending(self) -> int:
        """Messages waiting to be read."""
        return len(self._latest) if self.conflate else self.queue.qsize()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> tuple[str, Message]:
        item = await self.get()
        assert item is not None
        return item

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.hub.remove(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


class Hub:
    """Local fan-out. Calls `on_first`/`on_last` so an implementation can open/close its upstream."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.by_topic: dict[str, set[Subscription]] = defaultdict(set)

    async def add(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            first = not self.by_topic[topic]
            self.by_topic[topic].add(subscription)
            if first:
                await self.bus.upstream_open(topic)

    async def remove(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            subscribers = self.by_topic.get(topic)
            if subscribers is None:
                continue
            subscribers.discard(subscription)
            if not subscribers:
                del self.by_topic[topic]
                await self.bus.upstream_close(topic)

    def dispatch(self, topic: str, message: Message) -> None:
        for subscription in tuple(self.by_topic.get(topic, ())):
            subscription.deliver(topic, message)

    def resync(self, topic: str) -> None:
        """Tell every local subscriber of `topic` that messages may have been lost (out of band)."""
        for subscription in tuple(self.by_topic.get(topic, ())):
            subscription.signal_resync()

    @property
    def subscriber_count(self) -> int:
        return len({s for subs in self.by_topic.values() for s in subs})


class Bus(ABC):
    """Publish/subscribe between processes: typed messages (see `codec`) and market-data snapshots."""

    def __init__(self, buffer_size: int = 1000) -> None:
        self.hub = Hub(self)
        self.buffer_size = buffer_size

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open connections and background readers."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop background readers and close connections."""

    @abstractmethod
    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        """Send `message` to every subscriber of `topic`; with `retain`, also keep it as the latest."""

    async def publish_record(self, topic: str, record: codec.Record) -> None:
        """Publish a message stored as a codec record (the outbox). Unreadable records are parked."""
        message = codec.from_record(record)
        if message is not None:
            await self.publish(topic, message)

    async def publish_records(self, records: Sequence[tuple[str, codec.Record]]) -> None:
        """Publish (topic, record) pairs in this order (the outbox's batch); a bus with a network hop
        sends them in one round trip."""
        for topic, record in records:
            await self.publish_record(topic, record)

    @abstractmethod
    async def latest(self, topic: str) -> Message | None:
        """The last retained message of `topic`, if any (e.g. the current quote snapshot)."""

    holds_retained = False  # whether `peek` knows the retained messages (the in-process bus)

    def peek(self, topic: str) -> Message | None:
        """The retained message of `topic` when this process holds it, read without I/O; None when only
        a round trip could tell (Redis). A retained publish replaces the object, so its identity tells
        whether an answer computed from it is still current (schema/read_cache.py)."""
        return None

    @abstractmethod
    async def ping(self) -> None:
        """Raise if the bus cannot be reached."""

    async def upstream_open(self, topic: str) -> None:  # noqa: B027 - in-process bus has no upstream
        """Begin receiving `topic` from outside this process."""

    async def upstream_close(self, topic: str) -> None:  # noqa: B027
        """Stop receiving `topic` from outside this process."""

    async def subscribe(
        self, topics: Iterable[str], *, maxsize: int | None = None, conflate: bool = False
    ) -> Subscription:
        """A live subscription: receives what is published from now on (use as `async with`).

        `conflate=True` keeps only the newest unread message per topic (see Subscription)."""
        subscription = Subscription(self.hub, topics, maxsize or self.buffer_size, conflate=conflate)
        await self.hub.add(subscription)
        return subscription
