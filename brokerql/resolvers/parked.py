"""parkOrder, cancelParkedOrder and parkedOrders: parse, one service call, map."""

from __future__ import annotations

from typing import Annotated

import strawberry

from brokerql.domain.common import Rejection
from brokerql.domain.trading.parked import ParkOrder, trigger_of
from brokerql.resolvers.trading import place_command
from brokerql.schema.errors import UserError, not_found
from brokerql.schema.types.parked import ParkedOrder, ParkedOrderPayload, ParkOrderInput
from brokerql.services.trading.parked_orders import ParkedOutcome


def park_command(input: ParkOrderInput) -> ParkOrder | Rejection:
    order = place_command(input.order)
    t = input.trigger
    trigger = trigger_of(t.price_above, t.price_below, t.at)
    if isinstance(order, Rejection):
        return order
    if isinstance(trigger, Rejection):
        return trigger
    return ParkOrder(order=order, trigger=trigger, valid_until=input.valid_until)


def payload(outcome: ParkedOutcome) -> ParkedOrderPayload:
    parked = ParkedOrder.of(outcome.parked) if outcome.parked is not None else None
    return ParkedOrderPayload(parked_order=parked, errors=[UserError.of(e) for e in outcome.errors])


async def park_order(
    info: strawberry.Info, input: Annotated[ParkOrderInput, strawberry.argument(description="The parked order.")]
) -> ParkedOrderPayload:
    principal = info.context.require_client()
    command = park_command(input)
    if isinstance(command, Rejection):
        return payload(ParkedOutcome(errors=[command]))
    return payload(await info.context.container.parked_orders.park(principal.subject_id, command))


async def cancel_parked_order(
    info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The parked order.")]
) -> ParkedOrderPayload:
    principal = info.context.require_client()
    return payload(await info.context.container.parked_orders.cancel(principal.subject_id, str(id)))


async def parked_orders(
    info: strawberry.Info,
    account_id: Annotated[strawberry.ID, strawberry.argument(description="One of your accounts.")],
) -> list[ParkedOrder]:
    principal = info.context.require_client()
    found = await info.context.container.parked_orders.of_account(principal.subject_id, str(account_id))
    if found is None:
        raise not_found("Account")
    return [ParkedOrder.of(p) for p in found]
