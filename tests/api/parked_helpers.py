"""Shared pieces of the parked-order tests: operations, an app without an exchange (the test is the
market: it publishes the quotes), and reads of what the database holds."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from brokerql.container import Container
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS
from brokerql.exchange.engine import quote_topic
from brokerql.store.tables import AccountEventRow, OrderRow
from brokerql.store.tables_trading import ParkedOrderRow
from tests.api.conftest import GraphQLClient, serve_in_process
from tests.fakes import FakeClock

PARK = """mutation($i: ParkOrderInput!) { parkOrder(input: $i) {
  parkedOrder { id status placedOrderId failureCode validUntil
                trigger { priceAbove priceBelow at } order { symbol side quantity price clientOrderId } }
  errors { code message field } } }"""
CANCEL_PARKED = """mutation($id: ID!) { cancelParkedOrder(id: $id) {
  parkedOrder { id status placedOrderId } errors { code message field } } }"""
PARKED_ORDERS = """query($a: ID!) { parkedOrders(accountId: $a) {
  id status placedOrderId failureCode failureReason placedOrder { id status clientOrderId } } }"""

SYMBOL = "600000"
PREV_CLOSE = DEMO_INSTRUMENTS[SYMBOL].prev_close
LEVEL = PREV_CLOSE + Decimal("0.10")


def settings_of(backend: Any) -> Any:
    return backend.settings.model_copy(update={"parked_sweep_seconds": 0.05})


def build(backend: Any, clock: FakeClock) -> Container:
    """An API process without an exchange: LIMIT orders are accepted and wait queued for one."""
    return Container.build(settings_of(backend), with_exchange=False, clock=clock)


@contextlib.asynccontextmanager
async def served(backend: Any, clock: FakeClock, username: str = "silver001") -> AsyncIterator[GraphQLClient]:
    container = build(backend, clock)
    async with serve_in_process(settings_of(backend), container) as client:
        await client.login(username)
        yield client


def park_input(account: str, trigger: dict[str, Any], **order: Any) -> dict[str, Any]:
    base = {"accountId": account, "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": 100,
            "price": str(LEVEL)}  # fmt: skip
    base.update(order)
    return {"i": {"order": base, "trigger": trigger}}


async def park(client: GraphQLClient, account: str, trigger: dict[str, Any], **order: Any) -> dict[str, Any]:
    result = await client.execute(PARK, park_input(account, trigger, **order))
    assert "errors" not in result, result
    return result["data"]["parkOrder"]


async def publish_last(containers: Iterable[Container], last: Decimal, symbol: str = SYMBOL) -> None:
    """A quote with this last price, seen by every process: once per bus (Redis is shared by all;
    each in-process bus belongs to its own container)."""
    snapshot = {"symbol": symbol, "last": str(last), "bids": [], "asks": []}
    done: set[str] = set()
    for container in containers:
        key = container.settings.redis_url or str(id(container.bus))
        if key not in done:
            done.add(key)
            await container.bus.publish(quote_topic(symbol), snapshot, retain=True)


async def parked_status(container: Container, parked_id: str) -> str:
    async with container.db.read() as session:
        row = await session.get(ParkedOrderRow, parked_id)
    assert row is not None
    return row.status


async def orders_with_client_id(container: Container, account: str, client_order_id: str) -> int:
    async with container.db.read() as session:
        return await session.scalar(
            select(func.count())
            .select_from(OrderRow)
            .where(OrderRow.account_id == account, OrderRow.client_order_id == client_order_id)
        )


async def event_kinds(container: Container, account: str) -> list[tuple[int, str]]:
    async with container.db.read() as session:
        rows = await session.execute(
            select(AccountEventRow.seq, AccountEventRow.kind)
            .where(AccountEventRow.account_id == account)
            .order_by(AccountEventRow.seq)
        )
    return [(seq, kind) for seq, kind in rows.all()]


async def status_becomes(container: Container, parked_id: str, status: str) -> bool:
    return await parked_status(container, parked_id) == status
