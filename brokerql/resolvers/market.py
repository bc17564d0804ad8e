"""Quote queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from brokerql.domain.entitlement_rules import QuoteView, quote_view
from brokerql.domain.identity.tiers import TierCode
from brokerql.schema.entitlements import forbidden_for
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.types.market import Quote


async def entitled_view(info: strawberry.Info, symbol: str) -> QuoteView:
    """Real-time or delayed for this caller, or FORBIDDEN / NOT_FOUND."""
    container = info.context.container
    principal = info.context.require_client()
    instrument = container.instruments.get(symbol)
    if instrument is None:
        raise CodedError(ErrorCode.NOT_FOUND, f"Unknown symbol {symbol!r}.", reason="UNKNOWN_SYMBOL")
    tier = TierCode(await container.auth.tier_of(principal.subject_id))
    view = quote_view(instrument.board, lambda key: container.catalog.grants(tier, key))
    if not isinstance(view, QuoteView):
        raise forbidden_for(info, view)
    return view


async def quote(
    info: strawberry.Info, symbol: Annotated[str, strawberry.argument(description="Instrument code, e.g. 600000.")]
) -> Quote:
    view = await entitled_view(info, symbol)
    snapshot = await info.context.container.market.snapshot(symbol, delayed=view is QuoteView.DELAYED)
    if snapshot is None:
        raise CodedError(ErrorCode.NOT_FOUND, f"No quote for {symbol} yet.", reason="NO_QUOTE")
    return Quote.from_snapshot(snapshot)
