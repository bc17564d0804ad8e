"""orderEvents and heartbeat: one stream service call each (services/order_stream.py), mapped to the schema.

The resolver holds the caller's subscription slot and re-verifies the session at every heartbeat
(revoked, expired or idle-locked ends the stream there). Over graphql-transport-ws orderEvents joins the
group writer (subscriptions/order_fanout.py): strawberry refuses what cannot start and sends the
stream's first item; later events are rendered once per (event, selection) and written to every socket
that follows the account. Elsewhere (no channel, or `order_broadcast` off) every event goes through
strawberry, over a bus subscription of the stream's own.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, TypeVar

import strawberry

from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.types.trading import Heartbeat, OrderEvent, OrderEventItem
from brokerql.services.order_stream import Beat, StreamRefused
from brokerql.subscriptions import push_channel
from brokerql.subscriptions.guard import ensure_live, subscription_slot
from brokerql.subscriptions.order_member import Member

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
    principal, container = info.context.require_client(), info.context.container
    channel = push_channel.current() if container.settings.order_broadcast else None
    follow = _grouped if channel is not None else _through_strawberry
    stream = follow(info, channel, principal.subject_id, str(account_id), after_seq)
    async with subscription_slot(info, principal), aclosing(coded(stream)) as items:
        async for item in items:
            yield item


async def _grouped(
    info: strawberry.Info, channel: Any, client_id: str, account_id: str, after_seq: int | None
) -> AsyncIterator[OrderEventItem]:
    """The group writer's stream (subscriptions/order_fanout.py): it yields what strawberry sends."""
    container = info.context.container
    account = await container.order_stream.account(client_id, account_id, after_seq)
    member = Member(channel, container.settings.subscriber_buffer)
    heartbeat, check_live = container.settings.heartbeat_seconds, lambda: ensure_live(info)
    async with aclosing(container.order_fanout.follow(member, account, after_seq, check_live, heartbeat)) as items:
        async for item in items:
            yield item


async def _through_strawberry(
    info: strawberry.Info, _channel: Any, client_id: str, account_id: str, after_seq: int | None
) -> AsyncIterator[OrderEventItem]:
    """Every event through strawberry, over a bus subscription of this stream's own."""
    stream = info.context.container.order_stream.follow(client_id, account_id, after_seq)
    async with aclosing(stream):
        async for item in stream:
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
