"""Baskets (C4): definitions, runs with their completion, submission previews; paired orders' payload."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from brokerql.domain import rounding
from brokerql.domain.common import Rejection
from brokerql.domain.trading import baskets as domain
from brokerql.domain.trading.basket_runs import RunStatus
from brokerql.domain.trading.fees import Fees
from brokerql.schema.errors import UserError
from brokerql.schema.types.holdings import price_of
from brokerql.schema.types.trading import Order, OrderSide
from brokerql.schema.types.wizard import FeeBreakdown, OrderPreview
from brokerql.services.trading.basket_run_views import BasketRunView
from brokerql.services.trading.basket_runs import LegPlan, RunOutcome
from brokerql.services.trading.paired import PairOutcome

BasketRunStatus = strawberry.enum(
    RunStatus,
    name="BasketRunStatus",
    description="WORKING: a leg is on the book; FILLED: every leg filled; STOPPED: nothing working, "
    "something unfilled (cancelled or expired) - a top-up may resume it.",
)


@strawberry.type(description="One line of a basket: shares per basket unit, or a weight of its value.")
class BasketLeg:
    symbol: str = strawberry.field(description="Instrument code.")
    quantity: int | None = strawberry.field(description="Shares per basket unit (null for a weight leg).")
    weight: Decimal | None = strawberry.field(description="Share of the basket's value (weights are normalised).")


@strawberry.type(description="A basket (组合) of legs, bought or sold together by submitBasket.")
class Basket:
    id: strawberry.ID = strawberry.field(description="Opaque basket id.")
    name: str = strawberry.field(description="The client's name for it.")
    description: str = strawberry.field(description="Free text.")
    legs: list[BasketLeg] = strawberry.field(description="The legs, in the order given.")
    default_quantity: int | None = strawberry.field(
        description="Shares of a leg that gives neither quantity nor weight."
    )
    default_amount: Decimal | None = strawberry.field(
        description="Amount a weight basket is sized to when a submission gives no amount (times its multiplier)."
    )

    @classmethod
    def of(cls, b: domain.Basket) -> Basket:
        return cls(
            id=strawberry.ID(b.id),
            name=b.name,
            description=b.description,
            legs=[BasketLeg(symbol=leg.symbol, quantity=leg.quantity, weight=leg.weight) for leg in b.legs],
            default_quantity=b.default_quantity,
            default_amount=b.default_amount,
        )


@strawberry.type(description="Result of createBasket, updateBasket and deleteBasket.")
class BasketPayload:
    basket: Basket | None = strawberry.field(description="The basket (as deleted, for deleteBasket).")
    errors: list[UserError] = strawberry.field(description="Why the change was refused.")


@strawberry.type(description="One leg of a basket run and its completion.")
class BasketRunLeg:
    symbol: str = strawberry.field(description="Instrument code.")
    quantity: int = strawberry.field(description="Target shares of this leg.")
    price: Decimal = strawberry.field(description="The price the leg was sized at when submitted.")
    filled_quantity: int = strawberry.field(description="Shares filled, over all of the leg's orders.")
    filled_value: Decimal = strawberry.field(description="Value traded, over all of the leg's orders.")
    working_quantity: int = strawberry.field(description="Shares still on the book.")
    remainder: int = strawberry.field(description="Shares neither filled nor working: what a top-up resubmits.")
    order: Order | None = strawberry.field(description="The leg's latest order.")
    orders: list[Order] = strawberry.field(description="Every order of the leg, first to latest (top-ups add some).")


@strawberry.type(description="A submitted basket (组合委托): its legs' orders and completion, live on orderEvents.")
class BasketRun:
    id: strawberry.ID = strawberry.field(description="Opaque run id; every order and event of the run carries it.")
    basket_id: strawberry.ID = strawberry.field(description="The basket submitted (it may since have been deleted).")
    basket_name: str = strawberry.field(description="The basket's name when submitted.")
    account_id: strawberry.ID = strawberry.field(description="The account the legs trade in.")
    side: OrderSide = strawberry.field(description="BUY or SELL, for every leg.")
    status: BasketRunStatus = strawberry.field(description="Read from the legs' orders.")
    legs: list[BasketRunLeg] = strawberry.field(description="The legs and their completion.")
    quantity: int = strawberry.field(description="Target shares over all legs.")
    filled_quantity: int = strawberry.field(description="Filled shares over all legs.")
    filled_ratio: float = strawberry.field(description="filledQuantity / quantity, 0 to 1 (4 decimals).")
    value: Decimal = strawberry.field(description="Target value at the prices the legs were sized at.")
    filled_value: Decimal = strawberry.field(description="Value traded over all legs.")
    value_ratio: float = strawberry.field(description="filledValue / value (4 decimals).")
    top_ups: int = strawberry.field(description="How many top-ups were placed.")
    created_at: datetime = strawberry.field(description="When the basket was submitted.")

    @classmethod
    def of(cls, run: BasketRunView) -> BasketRun:
        p = run.progress
        legs = [
            BasketRunLeg(
                symbol=leg.symbol,
                quantity=leg.quantity,
                price=price_of(leg.symbol, leg.price) or leg.price,
                filled_quantity=leg.filled_quantity,
                filled_value=rounding.money(leg.filled_value),
                working_quantity=leg.working_quantity,
                remainder=leg.remainder,
                order=Order.from_view(run.orders[leg.latest.id]) if leg.latest else None,
                orders=[Order.from_view(run.orders[o.id]) for o in leg.orders],
            )
            for leg in p.legs
        ]
        return cls(
            id=strawberry.ID(run.id),
            basket_id=strawberry.ID(run.basket_id),
            basket_name=run.basket_name,
            account_id=strawberry.ID(run.account_id),
            side=run.side,
            status=p.status,
            legs=legs,
            quantity=p.quantity,
            filled_quantity=p.filled_quantity,
            filled_ratio=round(float(p.filled_ratio), 4),
            value=rounding.money(p.value),
            filled_value=rounding.money(p.filled_value),
            value_ratio=round(float(p.value_ratio), 4),
            top_ups=run.top_ups,
            created_at=run.created_at,
        )


@strawberry.type(description="One leg of a basket as a submission would size and place it.")
class BasketLegPreview:
    symbol: str = strawberry.field(description="Instrument code.")
    exact_quantity: Decimal = strawberry.field(description="The scaled quantity before rounding to the lot.")
    quantity: int = strawberry.field(description="The quantity rounded down to the board's lot (0: an odd lot).")
    price: Decimal | None = strawberry.field(description="The leg's order price.")
    accepted: bool = strawberry.field(description="Whether the leg passes every placement rule.")
    errors: list[UserError] = strawberry.field(description="Why the leg would be refused.")
    order: OrderPreview | None = strawberry.field(description="The order wizard's answer for the leg.")

    @classmethod
    def of(cls, leg: LegPlan) -> BasketLegPreview:
        return cls(
            symbol=leg.symbol,
            exact_quantity=leg.exact.quantize(Decimal("0.001")),
            quantity=leg.quantity,
            price=price_of(leg.symbol, leg.price),
            accepted=leg.accepted,
            errors=[UserError.of(r) for r in leg.rejections],
            order=OrderPreview.of(leg.admission) if leg.admission is not None else None,
        )


@strawberry.type(description="A basket submission leg by leg, with its totals (legs reserve cash together).")
class BasketPreview:
    accepted: bool = strawberry.field(description="Whether every leg would be placed (all or nothing).")
    legs: list[BasketLegPreview] = strawberry.field(description="The legs, in the basket's order.")
    notional: Decimal = strawberry.field(description="The legs' value at their prices.")
    fees: FeeBreakdown = strawberry.field(description="The legs' fees if they all trade in full.")
    frozen_cash: Decimal = strawberry.field(description="Cash the submission would freeze: the total cash needed.")
    available_after: Decimal | None = strawberry.field(description="Available cash once every leg froze its cash.")

    @classmethod
    def of(cls, plan: list[LegPlan]) -> BasketPreview:
        figures = [leg.admission.figures for leg in plan if leg.admission and leg.admission.figures]
        return cls(
            accepted=all(leg.accepted for leg in plan),
            legs=[BasketLegPreview.of(leg) for leg in plan],
            notional=rounding.money(sum((f.notional for f in figures), Decimal(0))),
            fees=FeeBreakdown.of(sum((f.fees for f in figures), Fees())),
            frozen_cash=rounding.money(sum((f.frozen_cash for f in figures), Decimal(0))),
            available_after=rounding.money(figures[-1].available_after) if figures else None,
        )


@strawberry.type(description="Result of submitBasket, cancelBasketRun and topUpBasketRun.")
class BasketRunPayload:
    run: BasketRun | None = strawberry.field(description="The run (null for a preview, or a refused submission).")
    preview: BasketPreview | None = strawberry.field(
        description="Leg by leg: for a preview, and for a submission refused because of its legs."
    )
    errors: list[UserError] = strawberry.field(description="Why it was refused; a leg's errors name it (legs[i]).")

    @classmethod
    def of(cls, outcome: RunOutcome) -> BasketRunPayload:
        return cls(
            run=BasketRun.of(outcome.run) if outcome.run is not None else None,
            preview=BasketPreview.of(outcome.plan) if outcome.plan and outcome.run is None else None,
            errors=[UserError.of(e) for e in outcome.errors],
        )

    @classmethod
    def refused(cls, errors: list[Rejection]) -> BasketRunPayload:
        return cls(run=None, preview=None, errors=[UserError.of(e) for e in errors])


@strawberry.type(description="Result of placePairedOrder: both orders, linked by pairId, or neither.")
class PairedOrderPayload:
    pair_id: strawberry.ID | None = strawberry.field(description="The id both orders carry (null when refused).")
    buy: Order | None = strawberry.field(description="The buy order.")
    sell: Order | None = strawberry.field(description="The sell order.")
    errors: list[UserError] = strawberry.field(description="Why neither was placed; fields name the leg (buy., sell.).")

    @classmethod
    def of(cls, outcome: PairOutcome) -> PairedOrderPayload:
        return cls(
            pair_id=strawberry.ID(outcome.pair_id) if outcome.pair_id else None,
            buy=Order.from_view(outcome.buy) if outcome.buy else None,
            sell=Order.from_view(outcome.sell) if outcome.sell else None,
            errors=[UserError.of(e) for e in outcome.errors],
        )
