"""A4 concurrent subscriptions counted once per deployment: two API processes on one Redis share a
caller's slots; a crashed process's slots expire with their lease. In-process (SQLite + memory bus)
each process counts its own."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from brokerql.services.identity.slots import SubscriptionSlots
from tests.api.conftest import GraphQLClient, wait_for
from tests.api.test_limits import EDIT, HEARTBEAT, admin_token, minute_start, process
from tests.conftest import REDIS_URL


async def released(client: GraphQLClient) -> bool:
    return client.container.identity.limits.slots.held() == 0


def refusal(message: dict) -> dict:
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return errors[0]["extensions"]


async def opens(client: GraphQLClient, token: str) -> bool:
    async with client.subscribe(HEARTBEAT, token=token) as stream:
        message = await stream.next()
        if message["type"] == "next" and "errors" not in message["payload"]:
            return True
        assert refusal(message) == {"code": "RATE_LIMITED", "reason": "TOO_MANY_SUBSCRIPTIONS", "limit": 2}
        return False


@pytest.fixture
def strict(backend):  # type: ignore[no-untyped-def]
    return backend.settings.model_copy(update={"rate_limit_scale": 1.0})


async def test_two_processes_share_a_callers_subscription_slots(backend, strict) -> None:  # type: ignore[no-untyped-def]
    at = minute_start()
    async with process(strict, at) as first, process(strict, at) as second:
        await first.execute(EDIT, {"rpm": 100, "subs": 2}, token=await admin_token(first))
        await second.container.identity.tiers.refresh()
        token = await first.login("std001")
        async with first.subscribe(HEARTBEAT, token=token) as a, second.subscribe(HEARTBEAT, token=token) as b:
            assert (await a.next_data())["data"]["heartbeat"] and (await b.next_data())["data"]["heartbeat"]
            # On Redis the two open streams are the caller's two slots; in-process each counts only its own.
            assert await opens(second, token) is (strict.redis_url is None), backend.name
            assert await opens(first, token) is (strict.redis_url is None), backend.name
        for each in (first, second):  # a stream gives its slot back once the server sees the socket close
            await wait_for(lambda each=each: released(each))
        assert await opens(second, token) and await opens(first, token)


@pytest.fixture
async def shared_redis(backend):  # type: ignore[no-untyped-def]
    if backend.settings.redis_url is None:
        pytest.skip("slot leases live on Redis (postgres-redis backend)")
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client, backend.settings.redis_prefix
    await client.aclose()


async def test_a_crashed_processes_slots_expire_with_their_lease(shared_redis) -> None:  # type: ignore[no-untyped-def]
    client, prefix = shared_redis
    crashed, alive = SubscriptionSlots(client, prefix=prefix), SubscriptionSlots(client, prefix=prefix)
    slot = await crashed.acquire("client:c1", 1)
    assert slot is not None and await alive.acquire("client:c1", 1) is None
    # The crashed process renews no more: its lease runs out (set here to a past instant, not waited for).
    await client.zadd(f"{prefix}:subslots:client:c1", {slot: 0})
    taken = await alive.acquire("client:c1", 1)
    assert taken is not None and await client.zcard(f"{prefix}:subslots:client:c1") == 1


async def test_renewal_extends_only_live_slots_and_release_frees(shared_redis) -> None:  # type: ignore[no-untyped-def]
    client, prefix = shared_redis
    slots = SubscriptionSlots(client, prefix=prefix, lease_seconds=30)
    key = f"{prefix}:subslots:operator:o1"
    first, second = await slots.acquire("operator:o1", 3), await slots.acquire("operator:o1", 3)
    assert first and second
    before = await client.zscore(key, first)
    await client.zadd(key, {first: before - 20_000})  # as if the last renewal was 20 s ago
    await client.zrem(key, second)  # pruned by another process after its lease ran out
    await slots.renew()
    assert await client.zscore(key, first) >= before
    assert await client.zscore(key, second) is None  # a lost lease is not resurrected
    await slots.release(first)
    await slots.release(second)
    assert await client.zcard(key) == 0 and slots.held() == 0
