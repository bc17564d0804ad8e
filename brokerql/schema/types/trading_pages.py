"""Pages (the generic Relay `Connection`) of an account's orders, fills and positions, with their filters."""

from __future__ import annotations

from datetime import datetime

import strawberry

from brokerql.schema.types.holdings import Position
from brokerql.schema.types.paging import Connection, connection, page
from brokerql.schema.types.trading import Fill, Order, OrderSide, OrderStatus
from brokerql.services.queries import FillFilter, OrderFilter


@strawberry.input(description="Orders matching every criterion given.")
class OrderFilterInput:
    status: list[OrderStatus] | None = strawberry.field(default=None, description="Any of these statuses.")
    symbol: str | None = strawberry.field(default=None, description="Only this instrument.")
    side: OrderSide | None = strawberry.field(default=None, description="Only buys or only sells.")
    since: datetime | None = strawberry.field(default=None, description="Placed at or after this time.")
    until: datetime | None = strawberry.field(default=None, description="Placed before this time.")

    def to_filter(self) -> OrderFilter:
        return OrderFilter(
            statuses=tuple(s.value for s in self.status or ()),
            symbol=self.symbol,
            side=self.side.value if self.side else None,
            since=self.since,
            until=self.until,
        )


@strawberry.input(description="Fills matching every criterion given.")
class FillFilterInput:
    symbol: str | None = strawberry.field(default=None, description="Only this instrument.")
    side: OrderSide | None = strawberry.field(default=None, description="Only buys or only sells.")
    order_id: strawberry.ID | None = strawberry.field(default=None, description="Only fills of this order.")
    since: datetime | None = strawberry.field(default=None, description="Booked at or after this time.")
    until: datetime | None = strawberry.field(default=None, description="Booked before this time.")

    def to_filter(self) -> FillFilter:
        return FillFilter(
            symbol=self.symbol,
            side=self.side.value if self.side else None,
            order_id=str(self.order_id) if self.order_id else None,
            since=self.since,
            until=self.until,
        )


async def order_connection(
    info: strawberry.Info, account_id: str, first: int | None, after: str | None, where: OrderFilterInput | None
) -> Connection[Order]:
    request = page("order", first, after)
    queries = info.context.container.trading_queries
    orders = await queries.orders(
        account_id, before_id=request.after_key, limit=request.fetch, where=where.to_filter() if where else None
    )
    return connection("order", orders, request, lambda o: o.id, Order.from_view)


async def fill_connection(
    info: strawberry.Info, account_id: str, first: int | None, after: str | None, where: FillFilterInput | None
) -> Connection[Fill]:
    request = page("fill", first, after)
    queries = info.context.container.trading_queries
    fills = await queries.fills(
        account_id, before_id=request.after_key, limit=request.fetch, where=where.to_filter() if where else None
    )
    return connection("fill", fills, request, lambda f: f.id, Fill.from_view)


async def position_connection(
    info: strawberry.Info, account_id: str, first: int | None, after: str | None
) -> Connection[Position]:
    request = page("position", first, after)
    queries = info.context.container.trading_queries
    positions = await queries.positions(account_id, after_symbol=request.after_key, limit=request.fetch)
    return connection("position", positions, request, lambda p: p.symbol, Position.of)
