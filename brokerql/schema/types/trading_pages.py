"""Relay connections of an account's orders, fills and positions, with their filters."""

from __future__ import annotations

from datetime import datetime

import strawberry

from brokerql.schema.types.pagination import PageInfo, PageRequest, page_of
from brokerql.schema.types.trading import Fill, Order, OrderSide, OrderStatus, Position
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


@strawberry.type(description="An order in a list, with its cursor.")
class OrderEdge:
    node: Order = strawberry.field(description="The order.")
    cursor: str = strawberry.field(description="Opaque position of this order in the list.")


@strawberry.type(description="A page of orders, newest first.")
class OrderConnection:
    edges: list[OrderEdge] = strawberry.field(description="The orders of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursor to get them.")


@strawberry.type(description="A fill in a list, with its cursor.")
class FillEdge:
    node: Fill = strawberry.field(description="The fill.")
    cursor: str = strawberry.field(description="Opaque position of this fill in the list.")


@strawberry.type(description="A page of fills, newest first.")
class FillConnection:
    edges: list[FillEdge] = strawberry.field(description="The fills of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursor to get them.")


@strawberry.type(description="A holding in a list, with its cursor.")
class PositionEdge:
    node: Position = strawberry.field(description="The holding.")
    cursor: str = strawberry.field(description="Opaque position of this holding in the list.")


@strawberry.type(description="A page of holdings, by symbol.")
class PositionConnection:
    edges: list[PositionEdge] = strawberry.field(description="The holdings of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursor to get them.")


async def order_connection(
    info: strawberry.Info, account_id: str, first: int | None, after: str | None, where: OrderFilterInput | None
) -> OrderConnection:
    page = PageRequest.of("order", first, after)
    queries = info.context.container.trading_queries
    rows = await queries.orders(
        account_id, before_id=page.after_key, limit=page.fetch, where=where.to_filter() if where else None
    )
    edges, page_info = page_of(rows, page, "order", lambda r: r.id, Order.from_row, OrderEdge)
    return OrderConnection(edges=edges, page_info=page_info)


async def fill_connection(
    info: strawberry.Info, account_id: str, first: int | None, after: str | None, where: FillFilterInput | None
) -> FillConnection:
    page = PageRequest.of("fill", first, after)
    queries = info.context.container.trading_queries
    rows = await queries.fills(
        account_id, before_id=page.after_key, limit=page.fetch, where=where.to_filter() if where else None
    )
    edges, page_info = page_of(rows, page, "fill", lambda r: r.id, Fill.from_row, FillEdge)
    return FillConnection(edges=edges, page_info=page_info)


async def position_connection(
    info: strawberry.Info, account_id: str, first: int | None, after: str | None
) -> PositionConnection:
    page = PageRequest.of("position", first, after)
    queries = info.context.container.trading_queries
    rows = await queries.positions(account_id, after_symbol=page.after_key, limit=page.fetch)
    edges, page_info = page_of(rows, page, "position", lambda r: r.symbol, Position.from_row, PositionEdge)
    return PositionConnection(edges=edges, page_info=page_info)
