"""Parked orders (埋单, C5): the types, the input and the payload."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from brokerql.domain.trading.parked import ParkedOrderView, TriggerKind
from brokerql.schema.errors import UserError
from brokerql.schema.inputs import PlaceOrderInput
from brokerql.schema.types.holdings import price_of
from brokerql.schema.types.trading import Order, OrderSide, OrderType, PriceLevel


@strawberry.enum(description="Where a parked order is in its life.")
class ParkedOrderStatus(Enum):
    PARKED = strawberry.enum_value("PARKED", description="Waiting for its trigger.")
    TRIGGERED = strawberry.enum_value("TRIGGERED", description="Fired: its order was placed (placedOrder).")
    CANCELED = strawberry.enum_value("CANCELED", description="Cancelled by the client before it fired.")
    EXPIRED = strawberry.enum_value("EXPIRED", description="validUntil passed before the trigger fired.")
    FAILED = strawberry.enum_value("FAILED", description="Fired, but placing the order was rejected (failureCode).")


@strawberry.input(description="When a parked order fires: give exactly one of priceAbove, priceBelow or at.")
class ParkTriggerInput:
    price_above: Decimal | None = strawberry.field(
        default=None, description="Fire when the last price rises to this level or above (it must be below now)."
    )
    price_below: Decimal | None = strawberry.field(
        default=None, description="Fire when the last price falls to this level or below (it must be above now)."
    )
    at: datetime | None = strawberry.field(default=None, description="Fire at this time (with a time zone).")


@strawberry.input(description="Park an order on the server until its trigger fires.")
class ParkOrderInput:
    order: PlaceOrderInput = strawberry.field(
        description="The order to place when the trigger fires, exactly as placeOrder takes it."
    )
    trigger: ParkTriggerInput = strawberry.field(description="A price crossing or a time.")
    valid_until: datetime | None = strawberry.field(
        default=None, description="The parked order expires at this time if it has not fired (default: in 24 hours)."
    )


@strawberry.type(description="A parked order's trigger: exactly one field is set.")
class ParkedTrigger:
    price_above: Decimal | None = strawberry.field(description="Fires when the last price rises to this or above.")
    price_below: Decimal | None = strawberry.field(description="Fires when the last price falls to this or below.")
    at: datetime | None = strawberry.field(description="Fires at this time.")


@strawberry.type(description="The order a parked order places when it fires (as it was given to parkOrder).")
class ParkedOrderRequest:
    account_id: strawberry.ID = strawberry.field(description="The account to trade in.")
    symbol: str = strawberry.field(description="Instrument code.")
    side: OrderSide = strawberry.field(description="BUY or SELL.")
    type: OrderType = strawberry.field(description="LIMIT or MARKET.")
    quantity: int = strawberry.field(description="Shares (or contracts).")
    price: Decimal | None = strawberry.field(description="Limit price, if given.")
    price_level: PriceLevel | None = strawberry.field(description="Quote level the order is priced at when it fires.")
    client_order_id: str | None = strawberry.field(
        description="The placed order's clientOrderId (default: one derived from the parked order's id)."
    )
    time_in_force: str = strawberry.field(description="DAY, IOC or FOK.")


@strawberry.type(description="A parked order (埋单): an order the server holds and places when its trigger fires.")
class ParkedOrder:
    id: strawberry.ID = strawberry.field(description="Opaque parked-order id.")
    status: ParkedOrderStatus = strawberry.field(description="PARKED, TRIGGERED, CANCELED, EXPIRED or FAILED.")
    trigger: ParkedTrigger = strawberry.field(description="What fires it.")
    order: ParkedOrderRequest = strawberry.field(description="The order it places when it fires.")
    valid_until: datetime = strawberry.field(description="It expires at this time if it has not fired.")
    placed_order_id: strawberry.ID | None = strawberry.field(description="The order it placed (TRIGGERED).")
    failure_code: str | None = strawberry.field(
        description="Why placing was rejected (FAILED), e.g. INSUFFICIENT_FUNDS or TRADING_HALTED."
    )
    failure_reason: str | None = strawberry.field(description="The rejection's message (FAILED).")
    created_at: datetime = strawberry.field(description="When it was parked.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(description="The order it placed, as it stands now (null until it fired).")
    async def placed_order(self, info: strawberry.Info) -> Order | None:
        if self.placed_order_id is None:
            return None
        view = await info.context.container.trading_queries.order(str(self.order.account_id), str(self.placed_order_id))
        return Order.from_view(view) if view is not None else None

    @classmethod
    def of(cls, p: ParkedOrderView) -> ParkedOrder:
        o, t = p.order, p.trigger
        return cls(
            id=strawberry.ID(p.id),
            status=ParkedOrderStatus(p.status.public.value),
            trigger=ParkedTrigger(
                price_above=price_of(o.symbol, t.level) if t.kind is TriggerKind.PRICE_ABOVE else None,
                price_below=price_of(o.symbol, t.level) if t.kind is TriggerKind.PRICE_BELOW else None,
                at=t.at,
            ),
            order=ParkedOrderRequest(
                account_id=strawberry.ID(o.account_id),
                symbol=o.symbol,
                side=o.side,
                type=o.type,
                quantity=o.quantity,
                price=price_of(o.symbol, o.price),
                price_level=o.price_level,
                client_order_id=o.client_order_id,
                time_in_force=o.time_in_force.value,
            ),
            valid_until=p.valid_until,
            placed_order_id=strawberry.ID(p.placed_order_id) if p.placed_order_id else None,
            failure_code=p.failure_code,
            failure_reason=p.failure_reason,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


@strawberry.type(description="Result of parkOrder and cancelParkedOrder.")
class ParkedOrderPayload:
    parked_order: ParkedOrder | None = strawberry.field(
        description="The parked order after the call (on a refused cancel: as it stands, e.g. TRIGGERED)."
    )
    errors: list[UserError] = strawberry.field(
        description="Business rejections, e.g. TRIGGER_ALREADY_MET, BAD_TRIGGER, PARKED_ORDER_ALREADY_TRIGGERED."
    )
