"""quotes(symbols): the latest snapshot of each symbol at once, then every change, in the entitled view.

The view (real-time or delayed) is decided per event from the caller's current tier, so a downgrade
applies to an open stream; the Level-2 fields re-check their entitlement on every event too.

Distribution: the bus keeps one upstream subscription per topic per process and fans out locally. A
quote subscriber is conflated: a slow one skips superseded snapshots of a symbol instead of being cut
off. Each snapshot is turned into a `Quote` once per (instrument, view) and shared by all subscribers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from brokerql.bus import Resync
from brokerql.domain.entitlement_rules import QuoteView
from brokerql.domain.identity.tiers import TierCode
from brokerql.resolvers.market import entitled_view
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.types.market import Quote
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
    # (brokerql/schema/graphql_core_fix.py).
    quote.shared_results = {}  # type: ignore[attr-defined]
    _built[topic] = (snapshot, quote)
    return quote


async def viewer_key(info: strawberry.Info) -> tuple[str, frozenset[str]] | None:
    """Everything about the caller that can change a quote's rendering: its entitlement (or scope) set."""
    principal = info.context.principal()
    if principal is None:
        return None
    if principal.kind == "partner":
        return ("partner", frozenset(principal.scopes))
    container = info.context.container
    tier = TierCode(await container.auth.tier_of(principal.subject_id))
    return ("client", frozenset(container.catalog.tier(tier).entitlements))


async def quotes(info: strawberry.Info, symbols: list[str]) -> AsyncGenerator[Quote, None]:
    container = info.context.container
    market = container.market
    wanted = list(dict.fromkeys(symbols))
    if not wanted or len(wanted) > MAX_SYMBOLS:
        raise CodedError(ErrorCode.BAD_USER_INPUT, f"Give 1 to {MAX_SYMBOLS} symbols.", field="symbols")
    views = {symbol: await entitled_view(info, symbol) for symbol in wanted}
    principal = info.context.principal()
    assert principal is not None  # entitled_view let the caller in
    async with subscription_slot(info, principal):
        topics = {market.topic(s, delayed=d): (s, d) for s in wanted for d in (False, True)}
        subscription = await container.bus.subscribe(list(topics), conflate=True)
        async with subscription:
            async for topic, snapshot in _latest(info, views):
                yield shared_quote(topic, snapshot)
            # Liveness costs a session read: check it once per heartbeat interval, not on every quote.
            loop, next_check = asyncio.get_running_loop(), 0.0
            while True:
                try:
                    item = await subscription.get()
                except Resync:  # the upstream link was lost: whatever is latest now, for every symbol
                    async for topic, snapshot in _latest(info, views):
                        yield shared_quote(topic, snapshot)
                    continue
                assert item is not None
                topic, snapshot = item
                symbol, delayed = topics[topic]
                if loop.time() >= next_check:  # revoked, expired or idle-locked: the stream ends within a heartbeat
                    await ensure_live(info)
                    next_check = loop.time() + container.settings.heartbeat_seconds
                view = await entitled_view(info, symbol)
                if (view is QuoteView.DELAYED) != delayed:
                    continue
                info.context.shared_event_key = await viewer_key(info)
                yield shared_quote(topic, snapshot)


async def _latest(
    info: strawberry.Info, views: dict[str, QuoteView]
) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
    """The retained snapshot of each symbol at the view the caller is entitled to."""
    market = info.context.container.market
    for symbol, view in views.items():
        delayed = view is QuoteView.DELAYED
        snapshot = await market.snapshot(symbol, delayed=delayed)
        if snapshot is not None:
            info.context.shared_event_key = await viewer_key(info)
            yield market.topic(symbol, delayed=delayed), snapshot
