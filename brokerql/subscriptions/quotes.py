"""quotes(symbols): one stream service call (services/quote_stream.py), mapped to shared `Quote`s.

The view (real-time or delayed) is decided per event from the caller's current entitlement set, so a
downgrade applies to an open stream; the Level-2 fields re-check their entitlement on every event too.
Each snapshot is turned into a `Quote` once per (instrument, view) and shared by all subscribers.

Over graphql-transport-ws, once strawberry has sent a stream's first event, later events take the
broadcast path (subscriptions/push_channel.py): executed and serialized once per (snapshot, selection,
entitlement set) and written to every matching socket as the same text.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
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

MAX_SYMBOLS = 50

# topic -> (snapshot, Quote built from it). Holding the snapshot keeps its identity from being reused.
_built: dict[str, tuple[dict[str, Any], Quote]] = {}


def shared_quote(topic: str, snapshot: dict[str, Any]) -> Quote:
    """The Quote of this exact snapshot object, built by whichever subscriber saw it first."""
    cached = _built.get(topic)
    if cached is not None and cached[0] is snapshot:
        return cached[1]
    quote = Quote.from_snapshot(snapshot)
    # Subscribers with the same selection and the same entitlements share one execution per snapshot
    # (brokerql/schema/graphql_core_fix.py) and, on the broadcast path, one serialized payload.
    quote.shared_results = {}  # type: ignore[attr-defined]
    quote.frames = {}  # type: ignore[attr-defined]
    _built[topic] = (snapshot, quote)
    return quote


ViewerKey = tuple[str, frozenset[str]]


class Viewer:
    """What one stream's caller may see of quotes now: its entitlement set (the key under which frames
    are shared) and the view of each symbol. Per event this is the cached tier lookup and two dict
    lookups; a symbol's view is derived again only under an entitlement set not seen before, so a
    downgrade moves the stream to the other group at the next event after the tier cache expires.
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
    viewer = Viewer(info, principal)
    channel = push_channel.current() if info.context.container.settings.quote_broadcast else None
    stream = info.context.container.quote_stream.follow(views, viewer.delayed, lambda: ensure_live(info))
    async with subscription_slot(info, principal), aclosing(stream) as snapshots:
        async for topic, snapshot in snapshots:
            quote = shared_quote(topic, snapshot)
            if channel is not None and channel.ready:
                await channel.push(quote, viewer)
            else:  # strawberry's own path: the first event of a stream, or not over graphql-transport-ws
                info.context.shared_event_key = await viewer.key()
                yield quote
