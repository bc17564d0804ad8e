"""Baskets (C4), the order wizard and paired orders: parse the input into the domain's command, one
service call, map."""

from __future__ import annotations

from typing import Annotated

import strawberry

from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.trading.baskets import BasketLeg, DefineBasket, Scaling, SubmitBasket
from brokerql.domain.trading.commands import PlaceOrder
from brokerql.domain.trading.pairs import PlacePairedOrder
from brokerql.domain.trading.price_levels import PriceLevel
from brokerql.resolvers.trading import place_command
from brokerql.schema.errors import UserError
from brokerql.schema.inputs import PlaceOrderInput
from brokerql.schema.types.basket_inputs import (
    CreateBasketInput,
    PairLegInput,
    PlacePairedOrderInput,
    SubmitBasketInput,
)
from brokerql.schema.types.baskets import Basket, BasketPayload, BasketRun, BasketRunPayload, PairedOrderPayload
from brokerql.schema.types.paging import Connection, connection, page
from brokerql.schema.types.trading import After, First
from brokerql.schema.types.trading import PriceLevel as PriceLevelEnum
from brokerql.schema.types.wizard import OrderPreview

Id = Annotated[strawberry.ID, strawberry.argument(description="The basket's id.")]
RunId = Annotated[strawberry.ID, strawberry.argument(description="The basket run's id.")]


def define_command(input: CreateBasketInput, basket_id: str | None = None) -> DefineBasket:
    legs = tuple(BasketLeg(leg.symbol, leg.quantity, leg.weight) for leg in input.legs)
    return DefineBasket(
        name=input.name,
        legs=legs,
        default_quantity=input.default_quantity,
        default_amount=input.default_amount,
        description=input.description,
        basket_id=basket_id,
    )


def submit_command(input: SubmitBasketInput) -> SubmitBasket:
    return SubmitBasket(
        basket_id=str(input.basket_id),
        account_id=str(input.account_id),
        side=Side(input.side.value),
        scaling=Scaling(multiplier=input.multiplier, amount=input.amount),
        price_level=PriceLevel(input.price_level.value) if input.price_level is not None else None,
        prices=tuple((p.symbol, p.price) for p in input.prices or ()),
        preview=input.preview,
        risk_acknowledged=input.risk_acknowledged,
    )


def pair_leg(account_id: str, side: Side, leg: PairLegInput, risk_acknowledged: bool = False) -> PlaceOrder:
    return PlaceOrder(
        risk_acknowledged=risk_acknowledged,
        account_id=account_id,
        symbol=leg.symbol,
        side=side,
        type=OrderType(leg.type.value),
        quantity=leg.quantity,
        price=leg.price,
        price_level=PriceLevel(leg.price_level.value) if leg.price_level is not None else None,
    )


async def baskets(info: strawberry.Info) -> list[Basket]:
    client_id = info.context.require_client().subject_id
    return [Basket.of(b) for b in await info.context.container.trading.baskets.baskets(client_id)]


async def create_basket(
    info: strawberry.Info, input: Annotated[CreateBasketInput, strawberry.argument(description="The basket.")]
) -> BasketPayload:
    client_id = info.context.require_client().subject_id
    outcome = await info.context.container.trading.baskets.define(client_id, define_command(input))
    return BasketPayload(basket=Basket.of(outcome.basket) if outcome.basket else None, errors=_errors(outcome.errors))


async def update_basket(
    info: strawberry.Info,
    id: Id,
    input: Annotated[CreateBasketInput, strawberry.argument(description="The whole new definition.")],
) -> BasketPayload:
    client_id = info.context.require_client().subject_id
    outcome = await info.context.container.trading.baskets.define(client_id, define_command(input, str(id)))
    return BasketPayload(basket=Basket.of(outcome.basket) if outcome.basket else None, errors=_errors(outcome.errors))


async def delete_basket(info: strawberry.Info, id: Id) -> BasketPayload:
    client_id = info.context.require_client().subject_id
    outcome = await info.context.container.trading.baskets.delete(client_id, str(id))
    return BasketPayload(basket=Basket.of(outcome.basket) if outcome.basket else None, errors=_errors(outcome.errors))


async def submit_basket(
    info: strawberry.Info, input: Annotated[SubmitBasketInput, strawberry.argument(description="The submission.")]
) -> BasketRunPayload:
    principal = info.context.require_client()
    submit = info.context.container.trading.basket_runs.submit
    return BasketRunPayload.of(
        await submit(principal.subject_id, submit_command(input), session_account_type=principal.account_type)
    )


async def basket_run(info: strawberry.Info, id: RunId) -> BasketRun | None:
    client_id = info.context.require_client().subject_id
    run = await info.context.container.trading.basket_runs.run(client_id, str(id))
    return BasketRun.of(run) if run is not None else None


async def basket_runs(
    info: strawberry.Info,
    account_id: Annotated[strawberry.ID, strawberry.argument(description="The account the runs trade in.")],
    first: First = None,
    after: After = None,
) -> Connection[BasketRun]:
    client_id = info.context.require_client().subject_id
    request = page("basketRun", first, after)
    service = info.context.container.trading.basket_runs
    runs = await service.runs(client_id, str(account_id), before_id=request.after_key, limit=request.fetch)
    return connection("basketRun", runs, request, lambda r: r.id, BasketRun.of)


async def cancel_basket_run(info: strawberry.Info, id: RunId) -> BasketRunPayload:
    client_id = info.context.require_client().subject_id
    return BasketRunPayload.of(await info.context.container.trading.basket_runs.cancel_run(client_id, str(id)))


async def top_up_basket_run(
    info: strawberry.Info,
    id: RunId,
    price_level: Annotated[PriceLevelEnum, strawberry.argument(description="Price the remainders at this level.")],
    risk_acknowledged: Annotated[
        bool, strawberry.argument(description="You read the risk warning of legs above your risk level (recorded).")
    ] = False,
) -> BasketRunPayload:
    principal = info.context.require_client()
    top_up = info.context.container.trading.basket_runs.top_up
    level, session = PriceLevel(price_level.value), principal.account_type
    ran = await top_up(
        principal.subject_id, str(id), level, session_account_type=session, acknowledged=risk_acknowledged
    )
    return BasketRunPayload.of(ran)


async def preview_order(
    info: strawberry.Info, input: Annotated[PlaceOrderInput, strawberry.argument(description="The order.")]
) -> OrderPreview:
    principal = info.context.require_client()
    command = place_command(input)
    if isinstance(command, Rejection):
        return OrderPreview.refused(input.quantity, [command])
    preview = info.context.container.trading.place.preview
    outcome = await preview(principal.subject_id, command, session_account_type=principal.account_type)
    if not outcome.admissions:
        return OrderPreview.refused(input.quantity, outcome.errors)
    return OrderPreview.of(outcome.admissions[0], outcome.repeated)


async def place_paired_order(
    info: strawberry.Info, input: Annotated[PlacePairedOrderInput, strawberry.argument(description="Both legs.")]
) -> PairedOrderPayload:
    principal = info.context.require_client()
    account = str(input.account_id)
    ack = input.risk_acknowledged
    command = PlacePairedOrder(
        buy=pair_leg(account, Side.BUY, input.buy, ack), sell=pair_leg(account, Side.SELL, input.sell, ack)
    )
    pairs = info.context.container.trading.pairs
    placed = await pairs.place_pair(principal.subject_id, command, session_account_type=principal.account_type)
    return PairedOrderPayload.of(placed)


def _errors(rejections: list[Rejection]) -> list[UserError]:
    return [UserError.of(r) for r in rejections]
