"""Inputs of the basket and paired-order mutations (C4, 对买对卖)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from brokerql.schema.types.trading import OrderSide, OrderType, PriceLevel


@strawberry.input(description="One line of a basket: give quantity or weight (or neither, for defaultQuantity).")
class BasketLegInput:
    symbol: str = strawberry.field(description="Instrument code.")
    quantity: int | None = strawberry.field(default=None, description="Shares per basket unit.")
    weight: Decimal | None = strawberry.field(
        default=None, description="Share of the basket's value; all legs of a basket give weights, or none does."
    )


@strawberry.input(description="A basket's definition (createBasket, and updateBasket which replaces it whole).")
class CreateBasketInput:
    name: str = strawberry.field(description="1 to 64 characters.")
    legs: list[BasketLegInput] = strawberry.field(description="1 to 50 legs, each symbol once.")
    default_quantity: int | None = strawberry.field(
        default=None, description="Shares of a leg that gives neither quantity nor weight."
    )
    default_amount: Decimal | None = strawberry.field(
        default=None, description="Amount a weight basket is sized to when a submission gives none."
    )
    description: str = strawberry.field(default="", description="Free text, at most 500 characters.")


@strawberry.input(description="A limit price for one leg of a basket.")
class LegPriceInput:
    symbol: str = strawberry.field(description="The leg's instrument code.")
    price: Decimal = strawberry.field(description="Its limit price, on the tick grid.")


@strawberry.input(
    description="Buy or sell a basket: sized by multiplier or amount (default: multiplier 1, or a weight "
    "basket's defaultAmount), each leg rounded down to its lot; priced at one priceLevel or by prices per leg. "
    "All legs are placed or none."
)
class SubmitBasketInput:
    basket_id: strawberry.ID = strawberry.field(description="The basket.")
    account_id: strawberry.ID = strawberry.field(description="The account every leg trades in.")
    side: OrderSide = strawberry.field(description="BUY or SELL, for every leg.")
    multiplier: Decimal | None = strawberry.field(default=None, description="Basket units (e.g. 2.5).")
    amount: Decimal | None = strawberry.field(default=None, description="Target value of the whole basket.")
    price_level: PriceLevel | None = strawberry.field(
        default=None, description="Price every leg at this quote level now (e.g. ASK1)."
    )
    prices: list[LegPriceInput] | None = strawberry.field(default=None, description="A limit for each leg instead.")
    preview: bool = strawberry.field(default=False, description="Only show what would be placed; place nothing.")


@strawberry.input(description="One side of a paired order.")
class PairLegInput:
    symbol: str = strawberry.field(description="Instrument code.")
    type: OrderType = strawberry.field(default=OrderType.LIMIT, description="LIMIT (default) or MARKET.")
    quantity: int = strawberry.field(description="Shares.")
    price: Decimal | None = strawberry.field(default=None, description="Limit price.")
    price_level: PriceLevel | None = strawberry.field(default=None, description="Or price at this quote level now.")


@strawberry.input(description="A buy and a sell placed together (对买对卖): both are accepted or neither is.")
class PlacePairedOrderInput:
    account_id: strawberry.ID = strawberry.field(description="The account both legs trade in.")
    buy: PairLegInput = strawberry.field(description="The buy.")
    sell: PairLegInput = strawberry.field(description="The sell.")
