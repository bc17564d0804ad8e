"""orderEvents and heartbeat: one stream service call each (services/order_stream.py), mapped to the schema.

The resolver holds the caller's subscription slot and re-verifies the session at every heartbeat
(revoked, expired or idle-locked ends the stream there).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import TypeVar

import strawberry

from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.types.trading import Heartbeat, OrderEvent, OrderEventItem
from brokerql.services.order_stream import Beat, StreamRefused
from brokerql.subscriptions.guard import ensure_live, subscription_slot

T = TypeVar("T")


async def coded(stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """The stream's items; a refusal becomes the coded GraphQL error it names."""
    try:
        async with aclosing(stream):  # a client that leaves closes the stream (and its bus subscription) now
            async for item in stream:
                yield item
    except StreamRefused as exc:
        raise CodedError(ErrorCode(exc.code), exc.message, **exc.extensions) from None


async def order_events(
    info: strawberry.Info,
    account_id: strawberry.ID,
    after_seq: int | None = None,
) -> AsyncGenerator[OrderEventItem, None]:
    principal = info.context.require_client()
    stream = info.context.container.order_stream.follow(principal.subject_id, str(account_id), after_seq)
    async with subscription_slot(info, principal), aclosing(coded(stream)) as items:
        async for item in items:
            if isinstance(item, Beat):
                await ensure_live(info)
                yield Heartbeat(last_seq=item.last_seq, server_time=item.at)
            else:
                yield OrderEvent.from_event(item)


async def heartbeat(info: strawberry.Info, account_id: strawberry.ID | None = None) -> AsyncGenerator[Heartbeat, None]:
    """A bare heartbeat stream; with accountId, lastSeq is that account's latest seq."""
    principal = info.context.require_client()
    beats = info.context.container.order_stream.beats(principal.subject_id, str(account_id) if account_id else None)
    async with subscription_slot(info, principal), aclosing(coded(beats)) as items:
        async for beat in items:
            await ensure_live(info)
            yield Heartbeat(last_seq=beat.last_seq, server_time=beat.at)
