"""orderEvents: replay from the store after `afterSeq`, then live, with no gap and no duplicate (D4).

The live subscription opens *before* the replay reads the store, so nothing committed in between can
be missed; what arrives twice is dropped by seq. A live event that skips ahead (the bus lost something,
e.g. Redis restarted) is filled in from the store, so a client sees every seq exactly once, in order.
Every `heartbeat_seconds` the stream yields a `Beat` carrying the last seq it sent.

Over WebSockets the group writer (subscriptions/order_fanout.py) keeps this contract per stream with one
subscription per account per process; it uses `account`, `start_seq` and `EventCursor` from here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from brokerql.bus import Bus, Resync, SlowConsumer
from brokerql.bus.topics import account_topic
from brokerql.domain.clock import Clock
from brokerql.domain.trading.messages import AccountEvent
from brokerql.services.queries import TradingQueries
from brokerql.services.turn_reads import TurnReads

REPLAY_PAGE = 500


@dataclass(frozen=True, slots=True)
class Beat:
    """No event for a heartbeat interval: the link is alive, and `last_seq` is the last seq sent."""

    last_seq: int
    at: datetime


class StreamRefused(Exception):
    """The stream cannot start or go on: `code` is the GraphQL error code, `extensions` its details."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.extensions = code, message, extensions


def slow_consumer(last_seq: int) -> StreamRefused:
    """The stream fell too far behind its reader: it ends, and `last_seq` is where to resume."""
    message = "This stream fell too far behind and was closed; resubscribe with afterSeq."
    return StreamRefused("RATE_LIMITED", message, reason="SLOW_CONSUMER", lastSeq=last_seq)


class EventCursor:
    """Tracks the last seq pushed and turns live messages into the exact next events to send."""

    def __init__(self, queries: TradingQueries, account_id: str, last_seq: int) -> None:
        self.queries = queries
        self.account_id = account_id
        self.last_seq = last_seq

    async def catch_up(self) -> list[AccountEvent]:
        """Everything stored after last_seq (in pages), oldest first."""
        events: list[AccountEvent] = []
        while True:
            after = events[-1].seq if events else self.last_seq
            page = await self.queries.events_after(self.account_id, after, REPLAY_PAGE)
            events.extend(page)
            if len(page) < REPLAY_PAGE:
                return events

    async def on_live(self, event: AccountEvent) -> list[AccountEvent]:
        if event.seq <= self.last_seq:
            return []  # already sent (replay overlapped the live stream, or the bus delivered twice)
        if event.seq == self.last_seq + 1:
            return [event]
        return await self.catch_up()  # a gap: the store has what the bus lost

    def sent(self, event: AccountEvent) -> None:
        self.last_seq = event.seq


class AccountEventStream:
    """An account's events for its owner: the stored ones after `afterSeq`, then live ones, and beats."""

    def __init__(self, queries: TradingQueries, bus: Bus, clock: Clock, *, heartbeat_seconds: float) -> None:
        self.queries, self.bus, self.clock, self.heartbeat_seconds = queries, bus, clock, heartbeat_seconds
        # Streams that start together (a reconnect storm) share their reads (turn_reads.py).
        self._account_of = TurnReads[tuple[str, str], Any](lambda key: queries.account_of(*key))
        self._last_seq = TurnReads[str, int](queries.last_seq)

    async def account(self, client_id: str, account_id: str, after_seq: int | None) -> str:
        """The account's id; StreamRefused for an account that is not the client's, or a negative afterSeq."""
        account = await self._account_of((client_id, account_id))
        if account is None:
            raise StreamRefused("NOT_FOUND", "Account not found")
        if after_seq is not None and after_seq < 0:
            raise StreamRefused("BAD_USER_INPUT", "afterSeq must be 0 or more.", field="afterSeq")
        return str(account.id)

    async def last_seq(self, account_id: str) -> int:
        """The account's last stored seq, from a read that starts after this call (shared in a turn)."""
        return await self._last_seq(account_id)

    async def start_seq(self, account_id: str, after_seq: int | None) -> int:
        """The seq a stream starts after: `afterSeq`, else the account's last one. Asked once its live
        subscription is open; StreamRefused for an afterSeq beyond the end (a resume past the end would
        silently skip every event up to it)."""
        last = await self._last_seq(account_id)
        if after_seq is not None and after_seq > last:
            message = f"afterSeq {after_seq} is beyond this account's last event ({last}); "
            raise StreamRefused(
                "BAD_USER_INPUT", message + f"resume with afterSeq <= {last}.", field="afterSeq", lastSeq=last
            )
        return last if after_seq is None else after_seq

    async def follow(
        self, client_id: str, account_id: str, after_seq: int | None
    ) -> AsyncIterator[AccountEvent | Beat]:
        """The stream; StreamRefused for an account that is not the client's, or an afterSeq out of range,
        or a reader fallen too far behind."""
        account = await self.account(client_id, account_id, after_seq)
        async with await self.bus.subscribe([account_topic(account)]) as subscription:
            cursor = EventCursor(self.queries, account, await self.start_seq(account, after_seq))
            for event in await cursor.catch_up() if after_seq is not None else []:
                cursor.sent(event)
                yield event
            next_beat = time.monotonic() + self.heartbeat_seconds
            while True:
                timed_out = False
                try:
                    item = await subscription.get(timeout=max(0.0, next_beat - time.monotonic()))
                    timed_out = item is None
                    pending = await cursor.on_live(item[1]) if item is not None else []
                except SlowConsumer:
                    raise slow_consumer(cursor.last_seq) from None
                except Resync:  # the bus may have lost events: the store has them
                    pending = await cursor.catch_up()
                for event in pending:
                    cursor.sent(event)
                    yield event
                if timed_out:
                    next_beat = time.monotonic() + self.heartbeat_seconds
                    yield Beat(cursor.last_seq, self.clock.now())

    async def beats(self, client_id: str, account_id: str | None) -> AsyncIterator[Beat]:
        """A bare heartbeat stream; with an account, `last_seq` is that account's latest seq."""
        if account_id is not None and await self.queries.account_of(client_id, account_id) is None:
            raise StreamRefused("NOT_FOUND", "Account not found")
        while True:
            yield Beat(await self.queries.last_seq(account_id) if account_id is not None else 0, self.clock.now())
            await asyncio.sleep(self.heartbeat_seconds)
