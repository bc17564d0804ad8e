"""exchangeStatus: is an exchange live, or do orders wait queued?"""

from __future__ import annotations

import strawberry

from brokerql.resolvers.guards import require_any
from brokerql.schema.types.exchange import ExchangeStatus


def exchange_status(info: strawberry.Info) -> ExchangeStatus:
    require_any(info)
    return ExchangeStatus.of(info.context.container.venue_watch.status())
