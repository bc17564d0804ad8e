"""Scaled deployment: two `brokerql serve` processes on PostgreSQL + Redis share orders and pushes."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg
import pytest

from tests.conftest import PG_ADMIN_DSN, PG_UP, REDIS_UP, REDIS_URL
from tests.e2e.test_served import PLACE, account_of, collect_events

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not (PG_UP and REDIS_UP), reason="needs PostgreSQL and Redis")]


@pytest.fixture
def pg_database():  # type: ignore[no-untyped-def]
    name = f"brokerql_e2e_{secrets.token_hex(4)}"

    async def run(sql: str) -> None:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(sql)
        await admin.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    yield PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_order_through_one_process_is_pushed_by_the_other(served_factory, pg_database) -> None:  # type: ignore[no-untyped-def]
    shared = {
        "BROKERQL_DATABASE_URL": pg_database,
        "BROKERQL_REDIS_URL": REDIS_URL,
        "BROKERQL_REDIS_PREFIX": f"bqe2e:{secrets.token_hex(4)}",
    }
    first = served_factory("first", **shared).start()  # runs the exchange
    second = served_factory("second", BROKERQL_EMBEDDED_EXCHANGE="0", **shared).start()
    token = first.login("gold001")
    account = account_of(first, token)

    async def scenario() -> list[dict]:
        live = asyncio.Event()
        listener = asyncio.create_task(collect_events(second.url, token, account, 0, 4, live))
        await asyncio.wait_for(live.wait(), 20)  # the first heartbeat: the stream on the second process is open
        via_first = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "MARKET", "quantity": 100}
        assert first.gql(PLACE, {"i": via_first}, token)["data"]["placeOrder"]["errors"] == []
        # ... and the other way round: the second process has no exchange, so its order reaches the
        # exchange in the first process through the Redis command stream.
        via_second = {**via_first, "symbol": "000001"}
        assert second.gql(PLACE, {"i": via_second}, token)["data"]["placeOrder"]["errors"] == []
        return await asyncio.wait_for(listener, 30)

    events = asyncio.run(scenario())
    assert [e["seq"] for e in events[:4]] == [1, 2, 3, 4]
    kinds = [e["kind"] for e in events]
    assert kinds.count("ACCEPTED") == 2 and "FILL" in kinds
