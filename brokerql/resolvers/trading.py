"""placeOrder and cancelOrders: parse the input into the domain's command, one service call, map."""

from __future__ import annotations

from typing import Annotated

import strawberry

from brokerql.domain.common import OrderType, Rejection, Side, TimeInForce
from brokerql.domain.trading.cancels import CancelCondition, CancelScope
from brokerql.domain.trading.commands import CancelOrders, PlaceOrder
from brokerql.domain.trading.price_levels import PriceLevel
from brokerql.schema.errors import UserError
from brokerql.schema.inputs import CancelOrdersInput, CancelOrdersPayload, PlaceOrderInput, PlaceOrderPayload
from brokerql.schema.types.trading import Order


def place_command(input: PlaceOrderInput) -> PlaceOrder | Rejection:
    """The order as the domain's command; a timeInForce it does not know is BAD_TIME_IN_FORCE."""
    try:
        time_in_force = TimeInForce(input.time_in_force)
    except ValueError:
        return Rejection("BAD_TIME_IN_FORCE", "timeInForce must be DAY, IOC or FOK.", "timeInForce")
    return PlaceOrder(
        account_id=str(input.account_id),
        symbol=input.symbol,
        side=Side(input.side.value),
        type=OrderType(input.type.value),
        quantity=input.quantity,
        price=input.price,
        price_level=PriceLevel(input.price_level.value) if input.price_level is not None else None,
        client_order_id=input.client_order_id,
        time_in_force=time_in_force,
        risk_acknowledged=input.risk_acknowledged,
    )


def cancel_command(input: CancelOrdersInput) -> CancelOrders:
    c = input.condition
    condition = None
    if c is not None:
        side = Side(c.side.value) if c.side else None
        condition = CancelCondition(
            side=side, symbol=c.symbol, min_price=c.min_price, max_price=c.max_price, placed_before=c.placed_before
        )
    return CancelOrders(
        account_id=str(input.account_id),
        scope=CancelScope(input.scope.value),
        order_ids=tuple(str(i) for i in input.order_ids or ()),
        symbol=input.symbol,
        side=Side(input.side.value) if input.side else None,
        condition=condition,
    )


async def place_order(
    info: strawberry.Info, input: Annotated[PlaceOrderInput, strawberry.argument(description="The order.")]
) -> PlaceOrderPayload:
    principal = info.context.require_client()
    command = place_command(input)
    if isinstance(command, Rejection):
        return PlaceOrderPayload(order=None, errors=[UserError.of(command)])
    place = info.context.container.trading.place.place
    outcome = await place(principal.subject_id, command, session_account_type=principal.account_type)
    order = Order.from_view(outcome.order) if outcome.order else None
    return PlaceOrderPayload(order=order, errors=[UserError.of(e) for e in outcome.errors])


async def cancel_orders(
    info: strawberry.Info,
    input: Annotated[CancelOrdersInput, strawberry.argument(description="Which orders to cancel.")],
) -> CancelOrdersPayload:
    principal = info.context.require_client()
    service = info.context.container.trading.cancel
    if input.dry_run:
        outcome = await service.preview(principal.subject_id, cancel_command(input))
    else:
        outcome = await service.cancel(
            principal.subject_id, cancel_command(input), session_account_type=principal.account_type
        )
    canceled = [Order.from_view(o) for o in outcome.orders]
    return CancelOrdersPayload(canceled=canceled, errors=[UserError.of(e) for e in outcome.errors])
