"""The scaled deployment's market data: the exchange in one container, an API process without one.

Both share only PostgreSQL and Redis, like `brokerql exchange` beside `brokerql serve` with
BROKERQL_EMBEDDED_EXCHANGE=0. The API process serves the other container's quotes, holds one upstream
Redis subscription per instrument for all its local subscribers, routes orders to that exchange, and
follows its trading day (prev_close, hence the limits its order checks use).
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from brokerql.container import Container
from brokerql.store.tables import OrderRow
from tests.api.conftest import serve_in_process, wait_for
from tests.conftest import REDIS_URL

QUOTES = "subscription($s: [String!]!) { quotes(symbols: $s) { symbol last bid ask volume asOf } }"
PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id } errors { code message } } }"""
LIMITS = '{ instruments(symbols: ["600000"]) { edges { node { prevClose limitUp } } } }'


@pytest.fixture
async def exchange_container(backend):  # type: ignore[no-untyped-def]
    if backend.name != "postgres-redis":
        pytest.skip("two processes share quotes through Redis only")
    container = Container.build(backend.settings, with_exchange=True)
    await container.start()
    yield container
    await container.stop()


async def test_an_api_process_without_exchange_serves_the_exchange_containers_quotes(
    backend, exchange_container: Container
) -> None:  # type: ignore[no-untyped-def]
    settings = backend.settings.model_copy(update={"embedded_exchange": False})
    api = Container.build(settings)
    assert api.exchange is None
    async with serve_in_process(settings, api) as client:
        await client.login("gold001")
        seen: dict[str, set[tuple]] = {"600000": set(), "510300": set()}
        local = len(api.bus.hub.by_topic.get("quotes.600000", ()))  # the process's own (the parked-order watch)
        async with contextlib.AsyncExitStack() as stack:
            streams = [await stack.enter_async_context(client.subscribe(QUOTES, {"s": list(seen)})) for _ in range(3)]
            while min(map(len, seen.values())) < 2:  # changing snapshots, from the other container
                for stream in streams:
                    quote = (await stream.next_data())["data"]["quotes"]
                    seen[quote["symbol"]].add((quote["asOf"], quote["last"], quote["bid"], quote["ask"]))
            # Three more streams: one local subscriber (the group writer's feed of the topic, shared by the
            # three) and still one upstream Redis subscription for the instrument in this process.
            assert len(api.bus.hub.by_topic["quotes.600000"]) == local + 1
            redis = aioredis.Redis.from_url(REDIS_URL)
            [(_, upstream)] = await redis.pubsub_numsub(f"{settings.redis_prefix}:quotes.600000")
            await redis.aclose()
            assert upstream == 2  # one per process: this one, and the exchange's (its parked-order watch)

            # A marketable order placed here is filled by the exchange over there, and the quotes show it.
            before = (await streams[0].next_data())["data"]["quotes"]
            account = await client.account_id()
            order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "MARKET", "quantity": 2000}
            placed = (await client.execute(PLACE, {"i": order}))["data"]["placeOrder"]
            assert placed["errors"] == []
            exchange = exchange_container.exchange

            async def matched_over_there() -> bool:
                async with exchange_container.db.read() as session:
                    order = await session.get(OrderRow, placed["order"]["id"])
                return order.status in ("FILLED", "CANCELED") and placed["order"]["id"] not in exchange.client_orders

            await wait_for(matched_over_there, timeout=20)

            async def volume_moved() -> bool:
                quote = (await streams[0].next_data())["data"]["quotes"]
                return quote["symbol"] == "600000" and quote["volume"] >= before["volume"] + 2000

            await wait_for(volume_moved, timeout=20, interval=0)

        # The exchange rolls 600000 to another day: this process's limits (and order checks) follow.
        exchange_container.exchange.desk.rebase("600000", Decimal("14.00"))
        await exchange_container.exchange.publish_quotes()

        async def rolled() -> bool:
            return api.instruments["600000"].prev_close == Decimal("14.00")

        await wait_for(rolled, timeout=10)
        node = (await client.execute(LIMITS))["data"]["instruments"]["edges"][0]["node"]
        assert (node["prevClose"], node["limitUp"]) == ("14.00", "15.40")
        above_old_limit = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "LIMIT",
                           "price": "15.00", "quantity": 100}  # fmt: skip
        assert (await client.execute(PLACE, {"i": above_old_limit}))["data"]["placeOrder"]["errors"] == []
