"""Index futures views (C8): positions with margin and P&L, the settlement event and its payload."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from brokerql.domain import rounding
from brokerql.domain.market.boards import Board
from brokerql.domain.trading import futures as domain
from brokerql.domain.trading.ledger import Funds
from brokerql.domain.trading.messages import FuturesSettled
from brokerql.schema.errors import UserError
from brokerql.schema.types.holdings import last_trade_price


def _price(value: Decimal) -> Decimal:
    return rounding.price(value, Board.CFFEX_INDEX_FUTURE)


@strawberry.type(description="A net futures position (持仓) in one contract.")
class FuturesPosition:
    symbol: str = strawberry.field(description="Contract code, e.g. IF2612.")
    direction: str = strawberry.field(description="LONG or SHORT.")
    quantity: int = strawberry.field(description="Contracts held.")
    yesterday_quantity: int = strawberry.field(description="Contracts held over a settlement (close-yesterday fee).")
    today_quantity: int = strawberry.field(description="Contracts opened today (closing them pays close-today).")
    closable_quantity: int = strawberry.field(description="Contracts not held by working closes.")
    pending_open: int = strawberry.field(description="Contracts of working opening orders.")
    average_open_price: Decimal | None = strawberry.field(description="Average open price (display), 4 decimals.")
    settlement_price: Decimal | None = strawberry.field(description="Last settlement price (basis of older lots).")
    margin: Decimal = strawberry.field(description="Margin held: price x quantity x multiplier x margin rate.")
    multiplier: int = strawberry.field(description="CNY per index point (300 for IF).")
    margin_rate: Decimal = strawberry.field(description="The contract's margin rate, e.g. 0.12.")
    last_price: Decimal | None = strawberry.field(description="Latest trade price (null before the first quote).")
    unrealised_pnl: Decimal | None = strawberry.field(
        description="Mark-to-market P&L since the last settlement (or open): (last x qty - basis) x multiplier x sign."
    )

    @classmethod
    def of(cls, p: domain.FuturesPosition, last: Decimal | None) -> FuturesPosition:
        spec = domain.spec_of(p.symbol)
        average = p.average_open_price
        return cls(
            symbol=p.symbol,
            direction=p.direction.value,
            quantity=p.quantity,
            yesterday_quantity=p.yd_quantity,
            today_quantity=p.td_quantity,
            closable_quantity=p.closable,
            pending_open=p.pending_open,
            average_open_price=rounding.average(average) if average is not None else None,
            settlement_price=_price(p.settle_price) if p.yd_quantity else None,
            margin=rounding.money(p.margin),
            multiplier=spec.multiplier,
            margin_rate=spec.margin_rate,
            last_price=_price(last) if last is not None else None,
            unrealised_pnl=rounding.money(p.unrealised_pnl(last, spec)) if last is not None and p.quantity else None,
        )


@strawberry.type(description="A futures account's book: margin in use and P&L by position.")
class FuturesBook:
    margin_in_use: Decimal = strawberry.field(description="Cash held as margin by open positions.")
    available: Decimal = strawberry.field(description="Cash free for new opens (negative: a margin call).")
    margin_call: Decimal = strawberry.field(description="Cash to deposit (or free) to meet margin; 0 if none.")
    risk_degree: Decimal | None = strawberry.field(
        description="Margin in use / equity (风险度), 4 decimals; above 1 is a margin call. Null without equity."
    )
    unrealised_pnl: Decimal = strawberry.field(description="Sum of the positions' mark-to-market P&L with a quote.")
    positions: list[FuturesPosition] = strawberry.field(description="Positions by contract.")

    @classmethod
    async def load(cls, info: strawberry.Info, account_id: str, funds: Funds) -> FuturesBook:
        """The futures book of an account the caller already may see, marked to each contract's last."""
        positions = await info.context.container.products.queries.futures_positions(account_id)
        views = [FuturesPosition.of(p, await last_trade_price(info, p.symbol)) for p in positions]
        unrealised = sum((v.unrealised_pnl for v in views if v.unrealised_pnl is not None), Decimal(0))
        return cls(
            margin_in_use=funds.margin,
            available=funds.available,
            margin_call=max(Decimal(0), -funds.available),
            risk_degree=domain.risk_degree(funds.margin, funds.balance + unrealised),
            unrealised_pnl=unrealised,
            positions=views,
        )


@strawberry.type(description="A contract of an account marked to its settlement price, or delivered at expiry.")
class FuturesSettlement:
    symbol: str = strawberry.field(description="Contract code.")
    settlement_price: Decimal = strawberry.field(description="The (final, at expiry) settlement price.")
    direction: str = strawberry.field(description="LONG or SHORT.")
    quantity: int = strawberry.field(description="Contracts marked.")
    variation: Decimal = strawberry.field(description="Variation margin moved into (+) or out of (-) cash.")
    margin: Decimal = strawberry.field(description="Margin now held for the position (0 once delivered).")
    fee: Decimal = strawberry.field(description="Delivery fee (at expiry only).")
    delivered: int = strawberry.field(description="Contracts delivered in cash (at expiry).")
    margin_call: Decimal = strawberry.field(description="Deficit below zero available cash after it (追加保证金).")

    @classmethod
    def of(cls, s: FuturesSettled) -> FuturesSettlement:
        return cls(
            symbol=s.symbol,
            settlement_price=_price(s.settlement_price),
            direction=s.direction,
            quantity=s.quantity,
            variation=rounding.money(s.variation),
            margin=rounding.money(s.margin),
            fee=rounding.money(s.fee),
            delivered=s.delivered,
            margin_call=rounding.money(s.margin_call),
        )


@strawberry.input(description="Settle one futures contract for the day.")
class SettleFuturesInput:
    symbol: str = strawberry.field(description="Contract code, e.g. IF2612.")
    settlement_price: Decimal = strawberry.field(
        description="The exchange's settlement price (on the last trading day: the final settlement price)."
    )


@strawberry.type(description="Result of settleFutures.")
class SettleFuturesPayload:
    final: bool = strawberry.field(description="True when this was the expiry's delivery settlement.")
    settlements: list[FuturesSettlement] = strawberry.field(description="One per account holding the contract.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, e.g. UNKNOWN_SYMBOL, TICK_SIZE.")
