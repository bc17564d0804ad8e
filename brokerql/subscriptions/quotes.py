"""quotes(symbols): one stream service call (services/quote_stream.py), mapped to shared `Quote`s.

The view (real-time or delayed) is decided per event from the caller's current tier, so a downgrade
applies to an open stream; the Level-2 fields re-check their entitlement on every event too. Each
snapshot is turned into a `Quote` once per (instrument, view) and shared by all subscribers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import strawberry

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
    stream = info.context.container.quote_stream.follow(
        views, lambda symbol: delayed_view(info, symbol), lambda: ensure_live(info)
    )
    async with subscription_slot(info, principal), aclosing(stream) as snapshots:
        async for topic, snapshot in snapshots:
            info.context.shared_event_key = await viewer_key(info)
            yield shared_quote(topic, snapshot)
