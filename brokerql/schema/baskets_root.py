"""Baskets (C4), the order wizard and paired orders: their part of the root types.

Every basket operation needs the `trading.baskets` entitlement (a permission shown in the SDL); a
client below it gets FORBIDDEN with the entitlement and the lowest tier that grants it. The wizard
and paired orders need what any order needs, which the placement rules check themselves.
"""

from __future__ import annotations

import strawberry
from strawberry.permission import PermissionExtension

from brokerql.domain.identity.tiers import TRADING_BASKETS
from brokerql.resolvers import baskets as r
from brokerql.schema.entitlements import Entitled
from brokerql.schema.types.baskets import Basket, BasketPayload, BasketRun, BasketRunPayload, PairedOrderPayload
from brokerql.schema.types.paging import Connection
from brokerql.schema.types.wizard import OrderPreview


def _gated() -> list[PermissionExtension]:
    return [PermissionExtension(permissions=[Entitled(TRADING_BASKETS)])]


def _q(resolver, description: str, *, gated: bool = True):  # type: ignore[no-untyped-def]
    return strawberry.field(resolver=resolver, description=description, extensions=_gated() if gated else [])


def _m(resolver, description: str, *, gated: bool = True):  # type: ignore[no-untyped-def]
    return strawberry.mutation(resolver=resolver, description=description, extensions=_gated() if gated else [])


@strawberry.type(description="Baskets and the order wizard.")
class BasketQuery:
    baskets: list[Basket] = _q(r.baskets, "Your baskets (组合), oldest first. Needs trading.baskets.")
    basket_run: BasketRun | None = _q(r.basket_run, "A basket run and its completion now. Needs trading.baskets.")
    basket_runs: Connection[BasketRun] = _q(
        r.basket_runs, "Your basket runs in an account, newest first, with their completion. Needs trading.baskets."
    )
    preview_order: OrderPreview = _q(
        r.preview_order,
        "The order wizard (委托精灵): what placeOrder would answer for this input now - every rule's outcome, "
        "fees by kind, the cash or shares it would freeze, available cash after, the most it could buy. "
        "Changes nothing.",
        gated=False,
    )


@strawberry.type(description="Baskets and paired orders.")
class BasketMutation:
    create_basket: BasketPayload = _m(r.create_basket, "Define a basket. Needs trading.baskets.")
    update_basket: BasketPayload = _m(r.update_basket, "Replace a basket's definition. Needs trading.baskets.")
    delete_basket: BasketPayload = _m(r.delete_basket, "Delete a basket (its runs stay). Needs trading.baskets.")
    submit_basket: BasketRunPayload = _m(
        r.submit_basket,
        "Buy or sell a basket: every leg is placed, in one transaction, or none is; preview: true only shows "
        "the legs. Needs trading.baskets.",
    )
    cancel_basket_run: BasketRunPayload = _m(
        r.cancel_basket_run, "Cancel every working leg of a run (as cancelOrders does). Needs trading.baskets."
    )
    top_up_basket_run: BasketRunPayload = _m(
        r.top_up_basket_run,
        "Place each stopped leg's remainder (to its lot) at a quote level, as new orders of the same run; "
        "all or none. Needs trading.baskets.",
    )
    place_paired_order: PairedOrderPayload = _m(
        r.place_paired_order,
        "Paired buy/sell (对买对卖): both orders accepted in one transaction, linked by pairId, or neither.",
        gated=False,
    )
