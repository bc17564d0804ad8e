"""Shared pieces of the trading API tests: queries, a client with trading settings, DB pokes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update

from brokerql.container import Container
from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.identity.tiers import DEMO_TIER_CATALOG
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.services.trading import (
    CancelOrdersService,
    ExecutionBooking,
    PlaceOrderService,
    TradingServices,
)
from brokerql.store.database import Database
from brokerql.store.tables import AccountRow
from tests.api.conftest import GraphQLClient, Stream, serve_in_process
from tests.fakes import NoQuotes, fixed_tier

PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  order { id status clientOrderId filledQuantity leavesQuantity price }
  errors { code message field } } }"""
CANCEL = """mutation($i: CancelOrdersInput!) { cancelOrders(input: $i) {
  canceled { id status leavesQuantity } errors { code message field } } }"""
EVENTS = """subscription($a: ID!, $s: Int) { orderEvents(accountId: $a, afterSeq: $s) {
  __typename
  ... on OrderEvent { seq kind code order { id status filledQuantity leavesQuantity }
                      fill { price quantity commission stampDuty transferFee } }
  ... on Heartbeat { lastSeq } } }"""
SYNC = """query($a: ID!) { syncState(accountId: $a) {
  lastSeq complete
  funds { balance available frozen withdrawable }
  positions { symbol quantity sellableQuantity frozenQuantity boughtToday cost }
  workingOrders { id status } todaysFills { id quantity price } } }"""


@contextlib.asynccontextmanager
async def trading_client(backend: Any, **overrides: Any) -> AsyncIterator[GraphQLClient]:
    """The in-process app with settings overridden (e.g. no exchange, a tiny subscriber buffer)."""
    with_exchange = overrides.pop("with_exchange", None)
    settings = backend.settings.model_copy(update=overrides)
    container = Container.build(settings, with_exchange=with_exchange)
    async with serve_in_process(settings, container) as client:
        yield client


def trading_services(db: Database, clock: Clock = SYSTEM_CLOCK, *, tier: str = "GOLD") -> TradingServices:
    """The trading use cases on `db` without an app: no quotes yet, every client of `tier`, no bus."""
    instruments = dict(DEMO_INSTRUMENTS)
    place = PlaceOrderService(
        db, instruments, NoQuotes(), DEMO_TIER_CATALOG, fixed_tier(tier), clock, market_always_open=True
    )
    return TradingServices.build(
        db,
        instruments,
        clock,
        place=place,
        cancel=CancelOrdersService(db, None, clock),
        booking=ExecutionBooking(db, instruments, clock),
    )


def order_input(account: str, **fields: Any) -> dict[str, Any]:
    base = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "LIMIT", "quantity": 100}
    base.update(fields)
    return {"i": base}


async def place(client: GraphQLClient, account: str, **fields: Any) -> dict[str, Any]:
    result = await client.execute(PLACE, order_input(account, **fields))
    assert "errors" not in result, result
    return result["data"]["placeOrder"]


async def sync_state(client: GraphQLClient, account: str) -> dict[str, Any]:
    result = await client.execute(SYNC, {"a": account})
    assert "errors" not in result, result
    return result["data"]["syncState"]


async def events_until(stream: Stream, done: Any) -> list[dict[str, Any]]:
    """Order events (heartbeats skipped) until `done(events)` holds."""
    events: list[dict[str, Any]] = []
    while not events or not done(events):
        payload = (await stream.next_data())["data"]["orderEvents"]
        if payload["__typename"] == "OrderEvent":
            events.append(payload)
    return events


async def move_to_previous_day(container: Container, account: str) -> None:
    """Pretend the account was last touched yesterday, so its next change runs the daily settlement."""
    yesterday = (date.today() - timedelta(days=3)).isoformat()
    async with container.db.transaction() as uow:
        await uow.session.execute(update(AccountRow).where(AccountRow.id == account).values(trading_day=yesterday))
