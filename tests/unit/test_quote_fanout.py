"""The group writer (subscriptions/quote_fanout.py): one loop writes to every socket that takes the frame
now; a socket whose transport is paused gets the newest snapshot per topic once it drains (latest wins)
while the others keep every snapshot.

The sockets here are channels whose ASGI send waits while `writable` is clear, as uvicorn's does while
the transport is paused: what the writer sees of a slow socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from brokerql.bus.memory import MemoryBus
from brokerql.monitor.figures import ProcessFigures
from brokerql.subscriptions.push_channel import send_now
from brokerql.subscriptions.quote_fanout import Member, QuoteFanout, TopicFeed

KEY = (1, "[]", ("client", frozenset({"quotes.level1"})))


class Socket:
    """The PushChannel surface the writer uses; the payload of a snapshot is its text."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.ended = False
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False
        self.revoked = False  # its rendering carries an error of its own (a revoked session)

    def shared(self, quote: Any, key: Any) -> str | None:
        return None if self.revoked else str(quote)

    async def own(self, quote: Any, key: Any, *, mine: bool = False) -> str:
        return f"own error, {quote}" if mine and self.revoked else str(quote)

    def write(self, payload: str) -> Any:
        return None if self.ended else send_now(self._send, payload)

    async def _send(self, payload: str) -> None:
        await self.writable.wait()
        if self.gone:
            raise ConnectionResetError("the client went away")
        self.frames.append(payload)


async def feed_with(*sockets: Socket) -> tuple[QuoteFanout, TopicFeed, list[Member]]:
    fanout = QuoteFanout(None, MemoryBus(), ProcessFigures(), tier_seconds=1.0)  # type: ignore[arg-type]
    feed = TopicFeed(fanout, "quotes.600000", "600000", False)
    fanout.feeds[feed.topic] = feed
    await feed.opened
    members = []
    for socket in sockets:
        member = Member(socket, viewer=None, client_id=None)  # type: ignore[arg-type]
        member.fanout, member.feeds = fanout, [feed]
        fanout._place(member, KEY)
        members.append(member)
    return fanout, feed, members


async def test_a_send_that_does_not_suspend_is_done_in_the_callers_turn() -> None:
    socket = Socket()
    assert socket.write("a") is None
    assert socket.frames == ["a"]
    socket.writable.clear()
    rest = socket.write("b")
    assert rest is not None and socket.frames == ["a"]
    socket.writable.set()
    await rest
    assert socket.frames == ["a", "b"]


async def test_cancelling_the_rest_of_a_send_cancels_the_send() -> None:
    socket = Socket()
    socket.writable.clear()
    rest = socket.write("never")

    async def finish() -> None:
        await rest  # type: ignore[misc]

    task = asyncio.create_task(finish())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    socket.writable.set()
    await asyncio.sleep(0)
    assert socket.frames == []


async def test_a_slow_socket_gets_the_latest_snapshot_while_fast_ones_get_every_one() -> None:
    fast, slow = Socket(), Socket()
    fanout, feed, (_, slow_member) = await feed_with(fast, slow)
    slow.writable.clear()  # its transport is paused: its buffer is full
    for snapshot in ("q1", "q2", "q3", "q4"):
        await feed.publish(snapshot)  # type: ignore[arg-type]
    assert fast.frames == ["q1", "q2", "q3", "q4"]
    assert slow.frames == [] and slow_member.pending == {feed.topic: "q4"}  # q1 in flight, q2 and q3 superseded
    slow.writable.set()
    assert slow_member.draining is not None
    await slow_member.draining
    assert slow.frames == ["q1", "q4"]
    await feed.publish("q5")  # type: ignore[arg-type]
    assert slow_member.draining is None  # back in the loop: written in the feed's own turn
    assert fast.frames[-1] == slow.frames[-1] == "q5"
    await fanout.stop()


async def test_a_socket_that_fails_leaves_the_group_and_wakes_its_stream() -> None:
    good, gone = Socket(), Socket()
    fanout, feed, (_, gone_member) = await feed_with(good, gone)
    gone.gone = True
    await feed.publish("q1")  # type: ignore[arg-type]
    assert isinstance(gone_member.failure, ConnectionResetError) and gone_member.wake.is_set()
    assert gone_member not in feed.groups[KEY].members
    await feed.publish("q2")  # type: ignore[arg-type]
    assert good.frames == ["q1", "q2"] and gone.frames == []
    await fanout.stop()


async def test_nothing_is_written_after_a_member_left_even_a_paused_write() -> None:
    stays, leaves = Socket(), Socket()
    fanout, feed, (staying, leaving) = await feed_with(stays, leaves)
    leaves.writable.clear()
    await feed.publish("q1")  # type: ignore[arg-type]
    await feed.publish("q2")  # type: ignore[arg-type]
    fanout._leave(leaving)  # the stream's `finally`: complete, error or a closed socket
    leaves.writable.set()
    await feed.publish("q3")  # type: ignore[arg-type]
    for _ in range(5):  # every task that could still write has run
        await asyncio.sleep(0)
    assert leaves.frames == [] and stays.frames == ["q1", "q2", "q3"]
    assert leaving not in feed.groups[KEY].members
    fanout._leave(staying)
    assert feed.topic not in fanout.feeds  # the last one out closes the topic's bus subscription
    await fanout.stop()


async def test_a_socket_whose_rendering_is_its_own_gets_its_own_frame_and_shares_nothing() -> None:
    revoked, other = Socket(), Socket()
    fanout, feed, (revoked_member, _) = await feed_with(revoked, other)  # the revoked one renders first
    revoked.revoked = True
    await feed.publish("q1")  # type: ignore[arg-type]
    assert other.frames == ["q1"]
    assert revoked_member.draining is not None
    await revoked_member.draining
    assert revoked.frames == ["own error, q1"]
    await fanout.stop()
