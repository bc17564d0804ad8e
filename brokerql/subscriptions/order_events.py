"""orderEvents: replay from the store after `afterSeq`, then live, with no gap and no duplicate (D4).

The live subscription opens *before* the replay reads the store, so nothing committed in between can
be missed; what arrives twice is dropped by seq. A live event that skips ahead (the bus lost something,
e.g. Redis restarted) is filled in from the store, so a client sees every seq exactly once, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from brokerql.bus import Resync, SlowConsumer
from brokerql.bus.topics import account_topic
from brokerql.domain.trading.messages import AccountEvent
from brokerql.schema.errors import CodedError, ErrorCode, not_found
from brokerql.schema.types.trading import Heartbeat, OrderEvent, OrderEventItem
from brokerql.subscriptions.guard import ensure_live, subscription_slot


class EventCursor:
    """Tracks the last seq pushed and turns live messages into the exact next events to send."""

    def __init__(self, queries: Any, account_id: str, last_seq: int) -> None:
        self.queries = queries
        self.account_id = account_id
        self.last_seq = last_seq

    async def catch_up(self) -> list[AccountEvent]:
        """Everything stored after last_seq (in pages), oldest first."""
        events: list[AccountEvent] = []
        while True:
            after = events[-1].seq if events else self.last_seq
            page = await self.queries.events_after(self.account_id, after)
            events.extend(page)
            if len(page) < 500:
                return events

    async def on_live(self, event: AccountEvent) -> list[AccountEvent]:
        if event.seq <= self.last_seq:
            return []  # already sent (replay overlapped the live stream, or the bus delivered twice)
        if event.seq == self.last_seq + 1:
            return [event]
        return await self.catch_up()  # a gap: the store has what the bus lost

    def sent(self, event: AccountEvent) -> None:
        self.last_seq = event.seq


async def order_events(
    info: strawberry.Info,
    account_id: strawberry.ID,
    after_seq: int | None = None,
) -> AsyncGenerator[OrderEventItem, None]:
    container = info.context.container
    principal = info.context.require_client()
    account = await container.trading_queries.account_of(principal.subject_id, str(account_id))
    if account is None:
        raise not_found("Account")
    if after_seq is not None and after_seq < 0:
        raise CodedError(ErrorCode.BAD_USER_INPUT, "afterSeq must be 0 or more.", field="afterSeq")
    async with subscription_slot(info, principal):
        interval = container.settings.heartbeat_seconds
        subscription = await container.bus.subscribe([account_topic(account.id)])
        async with subscription:
            last = await container.trading_queries.last_seq(account.id)
            if after_seq is not None and after_seq > last:
                # Resuming past the end (e.g. the client kept a seq from a database that was reset) would
                # silently skip every event up to afterSeq: refuse, and say where the account really is.
                raise CodedError(
                    ErrorCode.BAD_USER_INPUT,
                    f"afterSeq {after_seq} is beyond this account's last event ({last}); "
                    f"resume with afterSeq <= {last}.",
                    field="afterSeq",
                    lastSeq=last,
                )
            cursor = EventCursor(container.trading_queries, account.id, last if after_seq is None else after_seq)
            for event in await cursor.catch_up() if after_seq is not None else []:
                cursor.sent(event)
                yield OrderEvent.from_event(event)
            next_beat = time.monotonic() + interval
            while True:
                timed_out = False
                try:
                    item = await subscription.get(timeout=max(0.0, next_beat - time.monotonic()))
                    timed_out = item is None
                    pending = await cursor.on_live(item[1]) if item is not None else []
                except SlowConsumer:
                    raise CodedError(
                        ErrorCode.RATE_LIMITED,
                        "This stream fell too far behind and was closed; resubscribe with afterSeq.",
                        reason="SLOW_CONSUMER",
                        lastSeq=cursor.last_seq,
                    ) from None
                except Resync:  # the bus may have lost events: the store has them
                    pending = await cursor.catch_up()
                for event in pending:
                    cursor.sent(event)
                    yield OrderEvent.from_event(event)
                if timed_out:
                    await ensure_live(info)  # revoked, expired or idle-locked: the stream ends here
                    next_beat = time.monotonic() + interval
                    yield Heartbeat(last_seq=cursor.last_seq, server_time=container.clock.now())


async def heartbeat(info: strawberry.Info, account_id: strawberry.ID | None = None) -> AsyncGenerator[Heartbeat, None]:
    """A bare heartbeat stream; with accountId, lastSeq is that account's latest seq."""
    container = info.context.container
    principal = info.context.require_client()
    if (
        account_id is not None
        and await container.trading_queries.account_of(principal.subject_id, str(account_id)) is None
    ):
        raise not_found("Account")
    async with subscription_slot(info, principal):
        while True:
            await ensure_live(info)  # revoked, expired or idle-locked: the stream ends here
            last = await container.trading_queries.last_seq(str(account_id)) if account_id is not None else 0
            yield Heartbeat(last_seq=last, server_time=container.clock.now())
            await asyncio.sleep(container.settings.heartbeat_seconds)
