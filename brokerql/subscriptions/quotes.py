"""quotes(symbols): one stream service call, mapped to shared `Quote`s.

Over graphql-transport-ws the stream joins the group writer (subscriptions/quote_fanout.py): strawberry
sends its first event, later snapshots are executed and serialized once per (snapshot, selection,
entitlement set) and written to every socket of the group as the same text. The view (real-time or
delayed) and the entitlement set follow the caller's tier (watched once per tier cache period per
client), so a downgrade applies to an open stream; the Level-2 fields re-check their entitlement on
every rendering too. Elsewhere (no channel, or `quote_broadcast` off) every snapshot goes through
strawberry (services/quote_stream.py), the view decided per event. Each snapshot is turned into a
`Quote` once per (instrument, view) and shared by all subscribers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import strawberry

from brokerql.domain.entitlement_rules import QuoteView
from brokerql.domain.identity.partner_scopes import partner_entitlements
from brokerql.domain.identity.tiers import TierCode
from brokerql.resolvers.market import entitled_view, view_granted
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.types.market import Quote
from brokerql.services.tokens import Principal
from brokerql.subscriptions import push_channel
from brokerql.subscriptions.guard import ensure_live, subscription_slot
from brokerql.subscriptions.quote_fanout import Member

MAX_SYMBOLS = 50

ViewerKey = tuple[str, frozenset[str]]


class Viewer:
    """What one stream's caller may see of quotes now: its entitlement set (the key under which frames
    are shared) and the view of each symbol. `key` is the cached tier lookup; a symbol's view is derived
    again only under an entitlement set not seen before, so a downgrade moves the stream to the other
    group once the tier cache expired (at the next event, or the group writer's next tier watch).
    The principal is the stream's own: expiry and revocation are checked at each heartbeat."""

    def __init__(self, info: strawberry.Info, principal: Principal) -> None:
        self.info, self.principal = info, principal
        self._views: dict[ViewerKey, dict[str, bool]] = {}

    async def key(self) -> ViewerKey:
        if self.principal.kind == "partner":
            return ("partner", frozenset(self.principal.scopes))
        container = self.info.context.container
        tier = TierCode(await container.auth.tier_of(self.principal.subject_id, stale_ok=True))
        return ("client", container.catalog.tier(tier).entitlements)

    async def delayed(self, symbol: str) -> bool:
        """Whether `symbol` is seen delayed now (FORBIDDEN / NOT_FOUND when not at all)."""
        key = await self.key()
        views = self._views.setdefault(key, {})
        delayed = views.get(symbol)
        if delayed is None:
            held = partner_entitlements(self.principal.scopes) if key[0] == "partner" else key[1]
            delayed = views[symbol] = view_granted(self.info, symbol, held.__contains__) is QuoteView.DELAYED
        return delayed


def requested(symbols: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(symbols))
    if not wanted or len(wanted) > MAX_SYMBOLS:
        raise CodedError(ErrorCode.BAD_USER_INPUT, f"Give 1 to {MAX_SYMBOLS} symbols.", field="symbols")
    return wanted


async def delayed_view(info: strawberry.Info, symbol: str) -> bool:
    """Whether the caller sees `symbol` delayed now (FORBIDDEN / NOT_FOUND when not at all)."""
    return await entitled_view(info, symbol) is QuoteView.DELAYED


async def quotes(info: strawberry.Info, symbols: list[str]) -> AsyncGenerator[Quote, None]:
    views = {symbol: await delayed_view(info, symbol) for symbol in requested(symbols)}
    principal = info.context.principal()
    assert principal is not None  # entitled_view let the caller in
    viewer, container = Viewer(info, principal), info.context.container
    channel = push_channel.current() if container.settings.quote_broadcast else None
    async with subscription_slot(info, principal), aclosing(_stream(info, views, viewer, channel)) as stream:
        async for quote in stream:  # strawberry's path: the first event of a stream, or every one without a channel
            info.context.shared_event_key = await viewer.key()
            yield quote


def _stream(info: strawberry.Info, views: dict[str, bool], viewer: Viewer, channel: Any) -> AsyncIterator[Quote]:
    """The group writer's stream over graphql-transport-ws (subscriptions/quote_fanout.py), else every
    snapshot through strawberry."""
    container, check_live = info.context.container, lambda: ensure_live(info)
    if channel is not None:
        client_id = viewer.principal.subject_id if viewer.principal.kind == "client" else None
        member = Member(channel, viewer, client_id)
        return container.quote_fanout.follow(member, views, check_live, container.settings.heartbeat_seconds)
    return _through_strawberry(container.quote_stream.follow(views, viewer.delayed, check_live))


async def _through_strawberry(snapshots: AsyncIterator[tuple[str, dict[str, Any]]]) -> AsyncIterator[Quote]:
    async with aclosing(snapshots):  # type: ignore[type-var]
        async for topic, snapshot in snapshots:
            yield push_channel.shared_quote(topic, snapshot)
