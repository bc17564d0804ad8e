"""The orderEvents group writer (subscriptions/order_fanout.py) with sockets whose transport can pause:
a paused socket keeps every event in order (no latest-wins), one that falls too far behind ends with
SLOW_CONSUMER naming the last seq it took, and a member whose cursor is not at `seq - 1` leaves the
shared path with the event to catch up on.

The sockets are channels whose ASGI send waits while `writable` is clear (what uvicorn's does while the
transport is paused); the payload of an event is its seq. The store is a list of events.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from brokerql.bus.memory import MemoryBus
from brokerql.domain.clock import SYSTEM_CLOCK
from brokerql.monitor.figures import ProcessFigures
from brokerql.schema.errors import ErrorCode
from brokerql.schema.types.trading import Heartbeat
from brokerql.services.order_stream import EventCursor, StreamRefused
from brokerql.subscriptions.order_fanout import AccountFeed, OrderFanout
from brokerql.subscriptions.order_member import Member
from brokerql.subscriptions.push_channel import send_now

KEY = (1, "[]")
ACCOUNT = "acc-1"


@dataclass
class Event:
    seq: int
    account_id: str = ACCOUNT


class Socket:
    """The PushChannel surface the writer uses."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.ended = False
        self.ready = True
        self.writable = asyncio.Event()
        self.writable.set()

    def selection_key(self) -> Any:
        return KEY

    def shared(self, item: Any, key: Any) -> str:
        return str(item.seq)

    async def own(self, item: Any, key: Any, *, mine: bool = False) -> str:
        return f"beat {item.last_seq}" if isinstance(item, Heartbeat) else str(item.seq)

    def write(self, payload: str) -> Any:
        return None if self.ended else send_now(self._send, payload)

    async def _send(self, payload: str) -> None:
        await self.writable.wait()
        self.frames.append(payload)


class Store:
    """What services/order_stream.EventCursor reads, and the stream service's last seq."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.queries = self

    async def events_after(self, account_id: str, after: int, limit: int) -> list[Event]:
        return [e for e in self.events if e.seq > after][:limit]

    async def last_seq(self, account_id: str) -> int:
        return self.events[-1].seq if self.events else 0

    async def start_seq(self, account_id: str, after_seq: int | None) -> int:
        return await self.last_seq(account_id) if after_seq is None else after_seq

    clock = SYSTEM_CLOCK


def shared_event(event: Event) -> Event:  # the schema object is the event itself here
    return event


async def feed_with(monkeypatch: Any, *sockets: Socket, limit: int = 100) -> tuple[Store, AccountFeed, list[Member]]:
    monkeypatch.setattr("brokerql.subscriptions.order_fanout.shared_event", shared_event)
    store = Store()
    fanout = OrderFanout(store, MemoryBus(), ProcessFigures())  # type: ignore[arg-type]
    feed = fanout.feeds[ACCOUNT] = AccountFeed(fanout, ACCOUNT)
    await feed.opened
    members = []
    for socket in sockets:
        member = Member(socket, limit)  # type: ignore[arg-type]
        member.feed, member.cursor = feed, EventCursor(store, ACCOUNT, 0)  # type: ignore[arg-type]
        feed.join_group(member)
        members.append(member)
    return store, feed, members


async def publish(store: Store, feed: AccountFeed, *seqs: int) -> None:
    for seq in seqs:
        event = Event(seq)
        store.events.append(event)
        feed.cursor.sent(event)  # type: ignore[union-attr, arg-type]
        await feed.publish(event)  # type: ignore[arg-type]


async def test_a_paused_socket_gets_every_event_in_order_once_it_drains(monkeypatch: Any) -> None:
    fast, slow = Socket(), Socket()
    store, feed, (_, slow_member) = await feed_with(monkeypatch, fast, slow)
    slow.writable.clear()
    await publish(store, feed, 1, 2, 3, 4)
    assert fast.frames == ["1", "2", "3", "4"] and slow.frames == []
    assert [seq for seq, _ in slow_member.outbox] == [2, 3, 4]  # 1 in flight
    slow.writable.set()
    await slow_member.draining  # type: ignore[misc]
    assert slow.frames == ["1", "2", "3", "4"] and slow_member.written_seq == 4
    await publish(store, feed, 5)
    assert slow_member.draining is None and slow.frames[-1] == fast.frames[-1] == "5"
    await feed.fanout.stop()


async def test_a_socket_too_far_behind_ends_with_slow_consumer_and_the_last_seq_it_took(monkeypatch: Any) -> None:
    fast, slow = Socket(), Socket()
    store, feed, (_, slow_member) = await feed_with(monkeypatch, fast, slow, limit=3)
    await publish(store, feed, 1)
    slow.writable.clear()
    await publish(store, feed, 2, 3, 4, 5, 6)  # 2 in flight, 3-5 queued, 6 over the bound
    assert fast.frames == ["1", "2", "3", "4", "5", "6"]
    assert slow_member.failure is not None and slow_member.wake.is_set()
    assert not slow_member.grouped and slow_member in feed.others  # its own task ends the stream
    ended = slow_member.ended()
    assert isinstance(ended, StreamRefused) and ended.code == ErrorCode.RATE_LIMITED
    assert ended.extensions == {"reason": "SLOW_CONSUMER", "lastSeq": 1}  # resume from what the socket took
    await feed.fanout.stop()


async def test_a_member_behind_leaves_the_shared_path_with_the_event(monkeypatch: Any) -> None:
    one, two = Socket(), Socket()
    store, feed, (first, second) = await feed_with(monkeypatch, one, two)
    await publish(store, feed, 1)
    second.cursor = EventCursor(store, ACCOUNT, 0)  # type: ignore[arg-type]  # as if it had missed 1
    await publish(store, feed, 2)
    assert one.frames == ["1", "2"] and two.frames == ["1"]
    assert not second.grouped and [e.seq for e in second.inbox] == [2] and second.wake.is_set()
    assert await feed.fanout._behind(second, feed) == store.events[:2]  # a gap: the store fills it
    await publish(store, feed, 3)  # not in a group: handed over, not written
    assert two.frames == ["1"] and [e.seq for e in second.inbox] == [3]
    assert first.grouped
    await feed.fanout.stop()


async def test_a_member_at_or_past_the_event_is_skipped(monkeypatch: Any) -> None:
    ahead = Socket()
    store, feed, (member,) = await feed_with(monkeypatch, ahead)
    member.cursor.last_seq = 2  # type: ignore[union-attr]  # it read 1 and 2 from the store before it joined
    await publish(store, feed, 1, 2, 3)
    assert ahead.frames == ["3"] and member.grouped
    await feed.fanout.stop()


async def test_every_interval_checks_the_session_and_writes_a_beat(monkeypatch: Any) -> None:
    # The contract: a Heartbeat every BROKERQL_HEARTBEAT_SECONDS, events or not (a client may time its link by it).
    socket = Socket()
    store, feed, _ = await feed_with(monkeypatch)
    member, checks = Member(socket, 100), []  # type: ignore[arg-type]

    async def check_live() -> None:
        checks.append(len(socket.frames))

    stream = feed.fanout.follow(member, ACCOUNT, None, check_live, 3600)  # the beats are rung by hand below
    running = asyncio.ensure_future(anext(stream))  # a ready channel: nothing goes through strawberry

    async def settle() -> None:
        for _ in range(10):
            await asyncio.sleep(0)

    await settle()
    assert member.grouped
    await publish(store, feed, 1)
    member.beat()
    await settle()
    assert checks == [1] and socket.frames == ["1", "beat 1"]  # an event in the interval, and still a beat
    member.beat()
    await settle()
    assert checks == [1, 2] and socket.frames == ["1", "beat 1", "beat 1"]
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    assert member.left and not feed.groups  # its `finally` took it out
    await feed.fanout.stop()
