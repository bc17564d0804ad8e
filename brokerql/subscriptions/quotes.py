"""quotes(symbols): the latest snapshot of each symbol at once, then every change, in the entitled view.

The view (real-time or delayed) is decided per event from the caller's current tier, so a downgrade
applies to an open stream; the Level-2 `depth` field re-checks its entitlement on every event too.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from brokerql.bus import SlowConsumer
from brokerql.domain.entitlement_rules import QuoteView
from brokerql.resolvers.market import entitled_view
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.types.market import Quote

MAX_SYMBOLS = 50


async def quotes(info: strawberry.Info, symbols: list[str]) -> AsyncGenerator[Quote, None]:
    container = info.context.container
    wanted = list(dict.fromkeys(symbols))
    if not wanted or len(wanted) > MAX_SYMBOLS:
        raise CodedError(ErrorCode.BAD_USER_INPUT, f"Give 1 to {MAX_SYMBOLS} symbols.", field="symbols")
    views = {symbol: await entitled_view(info, symbol) for symbol in wanted}
    topics = {container.market.topic(s, delayed=d): (s, d) for s in wanted for d in (False, True)}
    subscription = await container.bus.subscribe(list(topics))
    async with subscription:
        for symbol, view in views.items():
            snapshot = await container.market.snapshot(symbol, delayed=view is QuoteView.DELAYED)
            if snapshot is not None:
                yield Quote.from_snapshot(snapshot)
        while True:
            try:
                item = await subscription.get()
            except SlowConsumer:
                raise CodedError(
                    ErrorCode.RATE_LIMITED,
                    "This quote stream fell behind and was closed; resubscribe.",
                    reason="SLOW_CONSUMER",
                ) from None
            assert item is not None
            topic, snapshot = item
            if snapshot.get("_resync"):
                continue
            symbol, delayed = topics[topic]
            view = await entitled_view(info, symbol)
            if (view is QuoteView.DELAYED) == delayed:
                yield Quote.from_snapshot(snapshot)
