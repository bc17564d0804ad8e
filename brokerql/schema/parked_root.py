"""Parked orders' part of the root types (C5), composed into Query and Mutation. SILVER and up."""

from __future__ import annotations

import strawberry
from strawberry.permission import PermissionExtension

from brokerql.domain.identity.tiers import TRADING_PARKED
from brokerql.resolvers import parked as r
from brokerql.schema.entitlements import Entitled
from brokerql.schema.types.parked import ParkedOrder, ParkedOrderPayload


def _entitled() -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[Entitled(TRADING_PARKED)])]


@strawberry.type(description="Parked-order reads.")
class ParkedQuery:
    parked_orders: list[ParkedOrder] = strawberry.field(
        resolver=r.parked_orders,
        description="An account's parked orders (埋单), newest first (the latest 200).",
        extensions=_entitled(),
    )


@strawberry.type(description="Parked-order writes.")
class ParkedMutation:
    park_order: ParkedOrderPayload = strawberry.mutation(
        resolver=r.park_order,
        description="Park an order on the server until the last price crosses a level or a time comes (C5).",
        extensions=_entitled(),
    )
    cancel_parked_order: ParkedOrderPayload = strawberry.mutation(
        resolver=r.cancel_parked_order,
        description="Cancel a parked order that has not fired (PARKED_ORDER_ALREADY_TRIGGERED once it has).",
        extensions=_entitled(),
    )
