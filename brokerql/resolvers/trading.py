"""placeOrder and cancelOrders: parse, resolve quote-linked prices, hand over to the trading service."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Annotated

import strawberry

from brokerql.domain.common import OrderType, Rejection, Side, TimeInForce
from brokerql.domain.entitlement_rules import trading_entitlement
from brokerql.domain.identity.tiers import TierCode
from brokerql.domain.trading.cancels import CancelCondition
from brokerql.domain.trading.cancels import CancelScope as DomainCancelScope
from brokerql.domain.trading.gateway import refuse_without_venue
from brokerql.domain.trading.price_levels import PriceLevel as DomainPriceLevel
from brokerql.domain.trading.price_levels import no_quote_at_level, resolve_price_level
from brokerql.schema.errors import UserError
from brokerql.schema.inputs import CancelOrdersInput, CancelOrdersPayload, PlaceOrderInput, PlaceOrderPayload
from brokerql.schema.types.trading import Order
from brokerql.services.trading import CancelRequest, OrderRequest

log = logging.getLogger(__name__)


def _rejected(*rejections: Rejection) -> PlaceOrderPayload:
    return PlaceOrderPayload(order=None, errors=[UserError.of(r) for r in rejections])


async def _entitled_to_trade(info: strawberry.Info, account_id: str) -> Rejection | None:
    container = info.context.container
    principal = info.context.require_client()
    account = await container.trading_queries.account_of(principal.subject_id, account_id)
    if account is None:
        return Rejection("NOT_FOUND", "No such account.", "accountId")
    key = trading_entitlement(account.type)
    tier = TierCode(await container.auth.tier_of(principal.subject_id))
    if container.catalog.grants(tier, key):
        return None
    lowest = container.catalog.lowest_tier_granting(key)
    return Rejection("NOT_ENTITLED", f"Trading here needs {key} ({lowest.value if lowest else 'no tier'} and up).")


async def place_order(
    info: strawberry.Info, input: Annotated[PlaceOrderInput, strawberry.argument(description="The order.")]
) -> PlaceOrderPayload:
    container = info.context.container
    principal = info.context.require_client()
    if (denied := await _entitled_to_trade(info, str(input.account_id))) is not None:
        return _rejected(denied)
    try:
        time_in_force = TimeInForce(input.time_in_force)
    except ValueError:
        return _rejected(Rejection("BAD_TIME_IN_FORCE", "timeInForce must be DAY, IOC or FOK.", "timeInForce"))
    try:
        snapshot = await container.market.snapshot(input.symbol) if input.symbol in container.instruments else None
    except Exception:  # the bus is down (Redis restarting): no quote means no price checks, so no order
        log.warning("no quote for %s: market data unavailable", input.symbol, exc_info=True)
        return _rejected(Rejection("MARKET_DATA_UNAVAILABLE", "No quote right now; try again shortly.", "symbol"))
    reference = Decimal(snapshot["last"]) if snapshot and snapshot.get("last") else None
    order_type, price = OrderType(input.type.value), input.price
    if input.price_level is not None:
        level = DomainPriceLevel(input.price_level.value)
        book = snapshot or {"bids": [], "asks": []}
        bids = [(Decimal(p), q) for p, q, _n in book["bids"]]
        asks = [(Decimal(p), q) for p, q, _n in book["asks"]]
        price = resolve_price_level(level, bids, asks, reference)
        if price is None:
            return _rejected(no_quote_at_level(level))
        order_type = OrderType.LIMIT
    if (no_venue := refuse_without_venue(order_type, container.venue_watch.status().live)) is not None:
        return _rejected(no_venue)
    if order_type is OrderType.LIMIT and (price is None or price <= 0):
        return _rejected(Rejection("BAD_PRICE", "A limit order needs a positive price (or a priceLevel).", "price"))
    request = OrderRequest(
        account_id=str(input.account_id),
        symbol=input.symbol,
        side=Side(input.side.value),
        type=order_type,
        quantity=input.quantity,
        price=price if order_type is OrderType.LIMIT else None,
        client_order_id=input.client_order_id,
        time_in_force=time_in_force,
        reference_price=reference,
    )
    outcome = await container.trading.place_order(principal.subject_id, request)
    container.monitor.order_placed(accepted=outcome.order is not None and not outcome.errors)
    return PlaceOrderPayload(
        order=Order.from_row(outcome.order) if outcome.order else None,
        errors=[UserError.of(e) for e in outcome.errors],
    )


async def cancel_orders(
    info: strawberry.Info,
    input: Annotated[CancelOrdersInput, strawberry.argument(description="Which orders to cancel.")],
) -> CancelOrdersPayload:
    container = info.context.container
    principal = info.context.require_client()
    condition = None
    if input.condition is not None:
        c = input.condition
        condition = CancelCondition(
            side=Side(c.side.value) if c.side else None,
            symbol=c.symbol,
            min_price=c.min_price,
            max_price=c.max_price,
            placed_before=c.placed_before,
        )
    request = CancelRequest(
        account_id=str(input.account_id),
        scope=DomainCancelScope(input.scope.value),
        order_ids=[str(i) for i in input.order_ids] if input.order_ids else None,
        symbol=input.symbol,
        side=Side(input.side.value) if input.side else None,
        condition=condition,
        dry_run=input.dry_run,
    )
    outcome = await container.trading.cancel_orders(principal.subject_id, request)
    return CancelOrdersPayload(
        canceled=[Order.from_row(r) for r in outcome.orders], errors=[UserError.of(e) for e in outcome.errors]
    )
