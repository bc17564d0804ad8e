"""One `orderEvents` operation on the group writer (subscriptions/order_fanout.py): its cursor, the live
events it has yet to catch up on, and its socket's frames in order behind a paused write.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from typing import Any

from strawberry.http.exceptions import WebSocketDisconnected

from brokerql.bus import SlowConsumer
from brokerql.domain.trading.messages import AccountEvent
from brokerql.schema.types.trading import OrderEvent
from brokerql.services.order_stream import EventCursor, StreamRefused, slow_consumer
from brokerql.subscriptions.group_writer import SocketMember
from brokerql.subscriptions.push_channel import PushChannel


def shared_event(event: AccountEvent) -> OrderEvent:
    """The event as the schema's object, with the cache its renderings are kept in (one per selection)."""
    item = OrderEvent.from_event(event)
    item.frames = {}  # type: ignore[attr-defined]
    return item


class Member(SocketMember):
    """One `orderEvents` operation on the group writer. `cursor.last_seq`: the last event written or
    waiting in `outbox`; `written_seq`: the last one its socket took."""

    def __init__(self, channel: PushChannel, limit: int) -> None:
        super().__init__(channel)
        self.limit = limit
        self.cursor: EventCursor | None = None  # set once the stream's start is known
        self.written_seq = 0
        self.feed: Any = None  # its order_fanout.AccountFeed
        self.grouped = False
        self.inbox: deque[AccountEvent] = deque()  # live events met while out of its group
        self.outbox: deque[tuple[int, str]] = deque()  # (seq, frame payload) behind a paused write; seq 0: a beat
        self.in_flight = 0  # the seq of the write the drain task finishes
        self.beat_slot = 0.0  # the slot of its next heartbeat (subscriptions/beat_slots.py)

    def offer(self, event: AccountEvent) -> None:
        """A live event met while out of its group. Beyond the bound it is dropped: the cursor meets a
        gap and reads the store."""
        if len(self.inbox) < self.limit:
            self.inbox.append(event)
        self.wake.set()

    def send(self, seq: int, payload: str) -> bool:
        """Write the frame now, or queue it behind a paused write. False when the socket is gone or the
        frames waiting reached the bound (a slow consumer): the stream then ends."""
        if seq:
            self.cursor.last_seq = seq  # type: ignore[union-attr]
        if self.draining is not None:
            if len(self.outbox) >= self.limit:
                self.fail(SlowConsumer())
                return False
            self.outbox.append((seq, payload))
            return True
        try:
            rest = self.channel.write(payload)
        except Exception as exc:
            self.fail(exc)
            return False
        if rest is None:
            self.written_seq = seq or self.written_seq
        else:
            self.in_flight = seq
            self.draining = asyncio.create_task(self._drain(rest))
        return True

    async def _drain(self, in_flight: Awaitable[None] | None) -> None:
        try:
            if in_flight is not None:
                await in_flight
                self.written_seq = self.in_flight or self.written_seq
            while self.outbox and not self.left:
                seq, payload = self.outbox.popleft()
                rest = self.channel.write(payload)
                if rest is not None:
                    await rest
                self.written_seq = seq or self.written_seq
        except Exception as exc:
            self.fail(exc)
        finally:
            self.draining = None

    async def flushed(self) -> None:
        """Once the frames queued behind a paused write went out (a replay waits: it reads no faster
        than its socket takes)."""
        while self.draining is not None and self.failure is None:
            await asyncio.shield(self.draining)

    def ended(self) -> BaseException:
        """What ends the stream after a failure."""
        if isinstance(self.failure, SlowConsumer):
            return slow_consumer(self.written_seq)
        if isinstance(self.failure, StreamRefused):
            return self.failure
        return WebSocketDisconnected()
