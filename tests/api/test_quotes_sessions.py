"""Trading sessions through placeOrder: with the demo's around-the-clock market off, orders outside the
board's sessions get MARKET_CLOSED. The service's clock is pinned with monkeypatch (placing.utcnow is
the seam); the database, bus and exchange are the real ones of the backend under test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from brokerql.container import Container
from brokerql.domain.market.sessions import EXCHANGE_TZ
from brokerql.services.trading import placing
from tests.api.conftest import GraphQLClient, serve_in_process

PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  order { id status } errors { code message field } } }"""
SATURDAY = datetime(2030, 1, 5, 10, 0, tzinfo=EXCHANGE_TZ)
MONDAY_LUNCH = datetime(2030, 1, 7, 12, 0, tzinfo=EXCHANGE_TZ)
MONDAY_MORNING = datetime(2030, 1, 7, 10, 0, tzinfo=EXCHANGE_TZ)


@pytest.fixture
async def sessions_client(backend) -> AsyncIterator[GraphQLClient]:  # type: ignore[no-untyped-def]
    settings = backend.settings.model_copy(update={"market_always_open": False})
    async with serve_in_process(settings, Container.build(settings)) as graphql_client:
        yield graphql_client


async def place_at(client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> dict:
    monkeypatch.setattr(placing, "utcnow", lambda: moment)
    account = await client.account_id()
    order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "LIMIT", "price": "13.50",
             "quantity": 100}  # fmt: skip
    return (await client.execute(PLACE, {"i": order}))["data"]["placeOrder"]


@pytest.mark.parametrize("moment", [SATURDAY, MONDAY_LUNCH], ids=["weekend", "lunch-break"])
async def test_orders_outside_the_sessions_get_market_closed(
    sessions_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, moment: datetime
) -> None:
    assert moment.weekday() in (0, 5)
    await sessions_client.login("gold001")
    payload = await place_at(sessions_client, monkeypatch, moment)
    assert payload["order"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("MARKET_CLOSED", "symbol")]


async def test_orders_in_continuous_trading_are_accepted(
    sessions_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sessions_client.login("gold001")
    payload = await place_at(sessions_client, monkeypatch, MONDAY_MORNING)
    assert payload["errors"] == [] and payload["order"]["id"]


async def test_demo_mode_takes_orders_around_the_clock(client: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    await client.login("gold001")
    payload = await place_at(client, monkeypatch, SATURDAY)
    assert payload["errors"] == [] and payload["order"]["id"]
