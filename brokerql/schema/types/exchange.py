"""The exchange's liveness as clients may see it: whether orders are being matched now or wait queued."""

from __future__ import annotations

import strawberry

from brokerql.exchange.liveness import VenueStatus


@strawberry.type(
    description="Whether an exchange is live. While `live` is false, accepted LIMIT orders wait queued (status "
    "NEW) and reach the book when an exchange is live again; MARKET orders are refused with EXCHANGE_UNAVAILABLE."
)
class ExchangeStatus:
    live: bool = strawberry.field(
        description="True while the exchange holding the lease sends heartbeats (none for "
        "BROKERQL_EXCHANGE_STALE_SECONDS = not live)."
    )
    orders_queued: bool = strawberry.field(
        description="True when orders placed now are accepted but wait queued until an exchange is live."
    )
    quotes_stale: bool = strawberry.field(
        description="True when published quotes may no longer be the market (no live exchange, or no market "
        "data published for BROKERQL_EXCHANGE_STALE_SECONDS)."
    )
    heartbeat_age_seconds: float | None = strawberry.field(
        description="Seconds since the exchange's last heartbeat; null if no exchange ever ran."
    )
    last_quote_age_seconds: float | None = strawberry.field(
        description="Seconds since the exchange last published market data; null if it never did."
    )

    @classmethod
    def of(cls, status: VenueStatus) -> ExchangeStatus:
        return cls(
            live=status.live,
            orders_queued=not status.live,
            quotes_stale=status.quotes_stale,
            heartbeat_age_seconds=status.heartbeat_age,
            last_quote_age_seconds=status.last_quote_age,
        )
