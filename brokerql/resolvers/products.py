"""Product lines (C6-C8): parse, one service call, map."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from brokerql.domain.identity.roles import Permission as P
from brokerql.domain.trading.futures import risk_degree
from brokerql.domain.trading.ledger import Funds
from brokerql.resolvers.guards import require_operator
from brokerql.schema.errors import UserError
from brokerql.schema.types.futures import (
    FuturesBook,
    FuturesPosition,
    FuturesSettlement,
    SettleFuturesInput,
    SettleFuturesPayload,
)


async def settle_futures(
    info: strawberry.Info,
    input: Annotated[SettleFuturesInput, strawberry.argument(description="The contract and its settlement price.")],
) -> SettleFuturesPayload:
    await require_operator(info, P.FUTURES_SETTLE)
    outcome = await info.context.container.products.futures.settle(input.symbol, input.settlement_price)
    return SettleFuturesPayload(
        final=outcome.final,
        settlements=[FuturesSettlement.of(s) for s in outcome.settled],
        errors=[UserError.of(e) for e in outcome.errors],
    )


async def _last(info: strawberry.Info, symbol: str) -> Decimal | None:
    snapshot = await info.context.container.market.snapshot(symbol)
    return Decimal(snapshot["last"]) if snapshot and snapshot.get("last") else None


async def futures_book(info: strawberry.Info, account_id: str, funds: Funds) -> FuturesBook:
    """The futures book of an account the caller already may see."""
    positions = await info.context.container.products.queries.futures_positions(account_id)
    views = [FuturesPosition.of(p, await _last(info, p.symbol)) for p in positions]
    unrealised = sum((v.unrealised_pnl for v in views if v.unrealised_pnl is not None), Decimal(0))
    return FuturesBook(
        margin_in_use=funds.margin,
        available=funds.available,
        margin_call=max(Decimal(0), -funds.available),
        risk_degree=risk_degree(funds.margin, funds.balance + unrealised),
        unrealised_pnl=unrealised,
        positions=views,
    )
