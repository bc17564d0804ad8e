"""Trading sessions through placeOrder: with the demo's around-the-clock market off, orders outside the
board's sessions get MARKET_CLOSED. The container runs on a FakeClock set to the moment under test; the
database, bus and exchange are the real ones of the backend under test.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from brokerql.container import Container
from brokerql.domain.market.sessions import EXCHANGE_TZ
from tests.api.conftest import GraphQLClient, serve_in_process
from tests.fakes import FakeClock

PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  order { id status } errors { code message field } } }"""
SATURDAY = datetime(2030, 1, 5, 10, 0, tzinfo=EXCHANGE_TZ)
MONDAY_LUNCH = datetime(2030, 1, 7, 12, 0, tzinfo=EXCHANGE_TZ)
MONDAY_MORNING = datetime(2030, 1, 7, 10, 0, tzinfo=EXCHANGE_TZ)


@contextlib.asynccontextmanager
async def client_at(backend, moment: datetime, *, always_open: bool) -> AsyncIterator[GraphQLClient]:  # type: ignore[no-untyped-def]
    settings = backend.settings.model_copy(update={"market_always_open": always_open})
    container = Container.build(settings, clock=FakeClock(moment))
    async with serve_in_process(settings, container) as graphql_client:
        await graphql_client.login("gold001")
        yield graphql_client


async def place(client: GraphQLClient) -> dict:
    account = await client.account_id()
    order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "LIMIT", "price": "13.50",
             "quantity": 100}  # fmt: skip
    return (await client.execute(PLACE, {"i": order}))["data"]["placeOrder"]


@pytest.mark.parametrize("moment", [SATURDAY, MONDAY_LUNCH], ids=["weekend", "lunch-break"])
async def test_orders_outside_the_sessions_get_market_closed(backend, moment: datetime) -> None:  # type: ignore[no-untyped-def]
    assert moment.weekday() in (0, 5)
    async with client_at(backend, moment, always_open=False) as client:
        payload = await place(client)
    assert payload["order"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("MARKET_CLOSED", "symbol")]


async def test_orders_in_continuous_trading_are_accepted(backend) -> None:  # type: ignore[no-untyped-def]
    async with client_at(backend, MONDAY_MORNING, always_open=False) as client:
        payload = await place(client)
    assert payload["errors"] == [] and payload["order"]["id"]


async def test_demo_mode_takes_orders_around_the_clock(backend) -> None:  # type: ignore[no-untyped-def]
    async with client_at(backend, SATURDAY, always_open=True) as client:
        payload = await place(client)
    assert payload["errors"] == [] and payload["order"]["id"]
