"""Accounts, orders, fills and the order event stream."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from brokerql.domain import rounding
from brokerql.domain.common import OrderType as DomainOrderType
from brokerql.domain.common import Side
from brokerql.domain.trading.messages import AccountEvent, FillView, OrderView
from brokerql.domain.trading.orders import OrderStatus as DomainOrderStatus
from brokerql.domain.trading.price_levels import PriceLevel as DomainPriceLevel
from brokerql.schema.types.holdings import Funds, Position, price_of
from brokerql.schema.types.paging import Connection
from brokerql.services.queries import AccountState

First = Annotated[int | None, strawberry.argument(description="Page size: 20 by default, at most 100.")]
After = Annotated[str | None, strawberry.argument(description="Cursor to continue after (pageInfo.endCursor).")]

if TYPE_CHECKING:
    from brokerql.schema.types.etf import EtfChange
    from brokerql.schema.types.futures import FuturesBook, FuturesSettlement
    from brokerql.schema.types.margin import CreditChange, MarginBook
    from brokerql.schema.types.parked import ParkedOrder
    from brokerql.schema.types.trading_pages import FillFilterInput, OrderFilterInput


OrderSide = strawberry.enum(Side, name="OrderSide", description="Buy or sell.")


OrderType = strawberry.enum(
    DomainOrderType,
    name="OrderType",
    description="LIMIT trades at the price or better; MARKET at the best available (5-level protection).",
)


PriceLevel = strawberry.enum(
    DomainPriceLevel,
    name="PriceLevel",
    description="Quote levels for quote-linked (flash) orders: price the order from the book.",
)


OrderStatus = strawberry.enum(
    DomainOrderStatus, name="OrderStatus", description="Order status with FIX OrdStatus meanings."
)


@strawberry.type(
    description="A trading account (资金账户): CASH (A-shares, ETFs, Stock Connect), MARGIN (信用) or FUTURES."
)
class Account:
    id: strawberry.ID = strawberry.field(description="Opaque account id.")
    type: str = strawberry.field(description="CASH, MARGIN or FUTURES.")
    currency: str = strawberry.field(description="Settlement currency.")
    last_seq: int = strawberry.field(description="Sequence number of the account's latest order event.")
    cash: Funds = strawberry.field(description="The account's cash.")
    realised_pnl: Decimal = strawberry.field(
        description="Realised profit and loss since the account opened, after fees (average cost; futures: "
        "closes, daily variation margin and delivery)."
    )
    _state: strawberry.Private[AccountState]

    @strawberry.field(description="FUTURES accounts: margin in use, margin call and P&L by position (null otherwise).")
    async def futures(
        self, info: strawberry.Info
    ) -> Annotated[FuturesBook, strawberry.lazy("brokerql.schema.types.futures")] | None:
        from brokerql.schema.types.futures import FuturesBook

        if self.type != "FUTURES":
            return None
        return await FuturesBook.load(info, str(self.id), self._state.funds)

    @strawberry.field(
        description="MARGIN accounts: maintenance ratio and lines, credit used and available, liabilities by kind "
        "(null otherwise)."
    )
    async def margin(
        self, info: strawberry.Info
    ) -> Annotated[MarginBook, strawberry.lazy("brokerql.schema.types.margin")] | None:
        from brokerql.schema.types.margin import MarginBook

        return await MarginBook.load(info, str(self.id)) if self.type == "MARGIN" else None

    @strawberry.field(description="Holdings, by symbol (all of them; positionsConnection pages them).")
    async def positions(self, info: strawberry.Info) -> list[Position]:
        return [Position.of(p) for p in await info.context.container.trading_queries.positions(str(self.id))]

    @strawberry.field(description="Holdings as a Relay connection, by symbol.")
    async def positions_connection(
        self, info: strawberry.Info, first: First = None, after: After = None
    ) -> Connection[Position]:
        from brokerql.schema.types.trading_pages import position_connection

        return await position_connection(info, str(self.id), first, after)

    @strawberry.field(description="Orders, newest first, filtered by status, symbol, side and placing time.")
    async def orders(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            Annotated[OrderFilterInput, strawberry.lazy("brokerql.schema.types.trading_pages")] | None,
            strawberry.argument(description="Only orders matching this."),
        ] = None,
    ) -> Connection[Order]:
        from brokerql.schema.types.trading_pages import order_connection

        return await order_connection(info, str(self.id), first, after, filter)

    @strawberry.field(description="Fills, newest first, filtered by symbol, side, order and booking time.")
    async def fills(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            Annotated[FillFilterInput, strawberry.lazy("brokerql.schema.types.trading_pages")] | None,
            strawberry.argument(description="Only fills matching this."),
        ] = None,
    ) -> Connection[Fill]:
        from brokerql.schema.types.trading_pages import fill_connection

        return await fill_connection(info, str(self.id), first, after, filter)

    @classmethod
    def of(cls, a: AccountState) -> Account:
        return cls(
            id=strawberry.ID(a.id),
            type=a.type,
            currency=a.currency,
            last_seq=a.last_seq,
            cash=Funds.of(a.funds),
            realised_pnl=rounding.money(a.realised_pnl),
            _state=a,
        )


@strawberry.type(description="An order (委托) with its running execution totals (FIX CumQty/LeavesQty/AvgPx).")
class Order:
    id: strawberry.ID = strawberry.field(description="Opaque order id.")
    account_id: strawberry.ID = strawberry.field(description="The account the order belongs to.")
    client_order_id: str | None = strawberry.field(description="The client's own id (idempotency key), if given.")
    symbol: str = strawberry.field(description="Instrument code.")
    side: OrderSide = strawberry.field(description="BUY or SELL.")
    type: OrderType = strawberry.field(description="LIMIT or MARKET.")
    time_in_force: str = strawberry.field(description="DAY, IOC or FOK.")
    price: Decimal | None = strawberry.field(description="Limit price; null for market orders.")
    quantity: int = strawberry.field(description="Ordered quantity.")
    status: OrderStatus = strawberry.field(description="Where the order stands.")
    filled_quantity: int = strawberry.field(description="Quantity filled so far (CumQty).")
    leaves_quantity: int = strawberry.field(description="Quantity still working (LeavesQty).")
    average_price: Decimal | None = strawberry.field(description="Average fill price (AvgPx), 4 decimals.")
    fees_paid: Decimal = strawberry.field(description="Commission, stamp duty and transfer fee charged so far.")
    frozen_cash: Decimal = strawberry.field(description="Cash the order still holds frozen.")
    reject_code: str | None = strawberry.field(description="Why the order was rejected or a cancel refused.")
    purpose: str = strawberry.field(
        description="NORMAL, or on margin accounts FINANCING_BUY, SHORT_SELL, SELL_TO_REPAY, BUY_TO_RETURN."
    )
    created_at: datetime = strawberry.field(description="When the order was accepted.")
    updated_at: datetime = strawberry.field(description="When the order last changed.")
    basket_run_id: strawberry.ID | None = strawberry.field(description="The basket run this order is a leg of.")
    pair_id: strawberry.ID | None = strawberry.field(description="The paired buy/sell this order is one side of.")

    @classmethod
    def from_view(cls, v: OrderView) -> Order:
        return cls(
            id=strawberry.ID(v.id),
            account_id=strawberry.ID(v.account_id),
            client_order_id=v.client_order_id,
            symbol=v.symbol,
            side=v.side,
            type=v.type,
            time_in_force=v.time_in_force.value,
            price=price_of(v.symbol, v.price),
            quantity=v.quantity,
            status=v.status,
            filled_quantity=v.cum_qty,
            leaves_quantity=v.leaves_qty,
            average_price=v.avg_px,
            fees_paid=rounding.money(v.fees_paid),
            frozen_cash=rounding.money(v.frozen_cash),
            reject_code=v.reject_code,
            purpose=v.purpose.value,
            created_at=v.created_at,
            updated_at=v.updated_at,
            basket_run_id=strawberry.ID(v.basket_run_id) if v.basket_run_id else None,
            pair_id=strawberry.ID(v.pair_id) if v.pair_id else None,
        )


@strawberry.type(description="One execution (成交) of an order.")
class Fill:
    id: strawberry.ID = strawberry.field(description="Opaque fill id.")
    order_id: strawberry.ID = strawberry.field(description="The order that traded.")
    symbol: str = strawberry.field(description="Instrument code.")
    side: OrderSide = strawberry.field(description="BUY or SELL.")
    price: Decimal = strawberry.field(description="Execution price.")
    quantity: int = strawberry.field(description="Executed quantity.")
    commission: Decimal = strawberry.field(description="Commission charged on this fill.")
    stamp_duty: Decimal = strawberry.field(description="Stamp duty (sells only).")
    transfer_fee: Decimal = strawberry.field(description="Transfer fee (过户费).")
    at: datetime = strawberry.field(description="When the fill was booked.")

    @classmethod
    def from_view(cls, v: FillView) -> Fill:
        return cls(
            id=strawberry.ID(v.id),
            order_id=strawberry.ID(v.order_id),
            symbol=v.symbol,
            side=v.side,
            price=price_of(v.symbol, v.price),
            quantity=v.quantity,
            commission=rounding.money(v.fees.commission),
            stamp_duty=rounding.money(v.fees.stamp_duty),
            transfer_fee=rounding.money(v.fees.transfer_fee),
            at=v.at,
        )


@strawberry.type(description="A change to an account, numbered 1, 2, 3 ... per account with no gaps.")
class OrderEvent:
    seq: int = strawberry.field(description="Per-account sequence number; resubscribe with afterSeq to resume.")
    kind: str = strawberry.field(
        description="ACCEPTED, FILL, CANCEL_REQUESTED, CANCELED, CANCEL_REJECTED, REJECTED, EXPIRED, DAY_SETTLED; "
        "for parked orders PARKED, PARKED_TRIGGERED, PARKED_CANCELED, PARKED_EXPIRED or PARKED_FAILED; for the "
        "product lines FUTURES_SETTLED, FUTURES_DELIVERED, MARGIN_REPAID, SHARES_RETURNED, MARGIN_INTEREST, "
        "MARGIN_LINE_CROSSED, ETF_CREATED, ETF_REDEEMED or ETF_ARBITRAGE."
    )
    account_id: strawberry.ID = strawberry.field(description="The account.")
    at: datetime = strawberry.field(description="When the change was committed.")
    order: Order | None = strawberry.field(
        description="The order after the change (null for DAY_SETTLED and parked-order events)."
    )
    fill: Fill | None = strawberry.field(description="The execution, for FILL events.")
    code: str | None = strawberry.field(
        description="Reason code, e.g. TOO_LATE_TO_CANCEL on CANCEL_REJECTED, the rejection's on PARKED_FAILED, "
        "MARGIN_CALL on FUTURES_SETTLED, MARGIN_WARNING / MARGIN_LIQUIDATION / MARGIN_SAFE on MARGIN_LINE_CROSSED."
    )
    futures: Annotated[FuturesSettlement, strawberry.lazy("brokerql.schema.types.futures")] | None = strawberry.field(
        description="FUTURES_SETTLED / FUTURES_DELIVERED: what the settlement did to the position and cash."
    )
    credit: Annotated[CreditChange, strawberry.lazy("brokerql.schema.types.margin")] | None = strawberry.field(
        description="MARGIN_REPAID, SHARES_RETURNED, MARGIN_INTEREST, MARGIN_LINE_CROSSED: what changed."
    )
    etf: Annotated[EtfChange, strawberry.lazy("brokerql.schema.types.etf")] | None = strawberry.field(
        description="ETF_CREATED, ETF_REDEEMED, ETF_ARBITRAGE: what moved, and an arbitrage run's P&L."
    )
    parked_order: Annotated[ParkedOrder, strawberry.lazy("brokerql.schema.types.parked")] | None = strawberry.field(
        description="The parked order after the change, for PARKED_* events."
    )
    basket_run_id: strawberry.ID | None = strawberry.field(
        description="The basket run whose leg changed (query basketRun for its completion)."
    )

    @classmethod
    def from_event(cls, e: AccountEvent) -> OrderEvent:
        from brokerql.schema.types.etf import EtfChange
        from brokerql.schema.types.futures import FuturesSettlement
        from brokerql.schema.types.margin import CreditChange

        return cls(
            etf=EtfChange.of(e.etf) if e.etf is not None else None,
            futures=FuturesSettlement.of(e.futures) if e.futures is not None else None,
            credit=CreditChange.of(e.credit) if e.credit is not None else None,
            seq=e.seq,
            kind=e.kind.value,
            account_id=strawberry.ID(e.account_id),
            at=e.at,
            order=Order.from_view(e.order) if e.order is not None else None,
            fill=Fill.from_view(e.fill) if e.fill is not None else None,
            code=e.code,
            basket_run_id=strawberry.ID(e.basket_run_id) if e.basket_run_id else None,
            parked_order=_parked(e),
        )


def _parked(e: AccountEvent) -> ParkedOrder | None:
    from brokerql.schema.types.parked import ParkedOrder

    return ParkedOrder.of(e.parked) if e.parked is not None else None


@strawberry.type(description="Sent every BROKERQL_HEARTBEAT_SECONDS on streams: the link is alive.")
class Heartbeat:
    last_seq: int = strawberry.field(description="Sequence number of the last event pushed on this stream (0: none).")
    server_time: datetime = strawberry.field(description="The server's clock.")


OrderEventItem = Annotated[
    OrderEvent | Heartbeat,
    strawberry.union("OrderEventItem", description="An order event, or a heartbeat carrying the last seq pushed."),
]
