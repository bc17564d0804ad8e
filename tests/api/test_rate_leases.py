"""Rate limits and cost budgets leased from Redis (services/allowances.py): two processes sharing one Redis
never admit more than the limit (request windows) or the capacity plus the leak bound (cost buckets),
a caller at its limit is refused with the retry time of today, what a process spent is on Redis once it
settles, and with Redis down a process counts on its own. Redis only (the postgres-redis backend),
except the HTTP test, which runs on both. The settlement is driven by the tests (`settle`), not by the
background task, wherever the outcome would depend on when it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from brokerql.api.counters import RedisCounters
from brokerql.api.quotas import CostBudgets, rate_limited
from brokerql.schema.errors import CodedError
from brokerql.services.allowances import Allowances
from brokerql.services.identity.limits import RateLimits
from brokerql.services.tokens import Principal
from tests.api.test_limits import EDIT, ME, admin_token, minute_start, process
from tests.conftest import REDIS_URL
from tests.fakes import FakeClock

NOW = 1_800_000_000.0  # the cost buckets' frozen clock: nothing leaks, so the bounds are exact


@pytest.fixture
async def shared(backend: Any) -> AsyncIterator[tuple[Any, Any]]:
    if backend.settings.redis_url is None:
        pytest.skip("leases live on Redis (postgres-redis backend)")
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client, backend.settings
    await client.aclose()


def operator(subject: str = "o1") -> Principal:
    return Principal(subject, "operator", "t1", datetime.now(UTC) + timedelta(hours=1))


def request_limits(settings: Any, allowances: Allowances | None, clock: FakeClock, redis: Any) -> RateLimits:
    """An operator's request limit needs neither tiers nor the database (RateLimits.limits_for)."""
    return RateLimits(settings, None, None, clock, redis, allowances)  # type: ignore[arg-type]


def budgets(client: Any, settings: Any) -> tuple[CostBudgets, Allowances]:
    allowances = Allowances(client)
    counters = RedisCounters(client, f"{settings.redis_prefix}:edge", allowances, clock=lambda: NOW)
    return CostBudgets(counters, settings), allowances


async def test_two_processes_admit_no_more_requests_than_the_limit_in_a_burst(shared) -> None:  # type: ignore[no-untyped-def]
    client, settings = shared
    settings = settings.model_copy(update={"rate_limit_scale": 1.0, "operator_requests_per_minute": 200})
    clock = FakeClock(datetime.now(UTC).replace(second=15, microsecond=0))
    both = [Allowances(client), Allowances(client)]
    limits = [request_limits(settings, each, clock, client) for each in both]
    burst = [limits[i % 2].check_request(operator()) for i in range(300)]
    burst += [each.settle() for each in both for _ in range(5)]  # settlements amid the burst
    decisions = [d for d in await asyncio.gather(*burst) if d is not None]
    admitted = sum(d.allowed for d in decisions)
    assert 0 < admitted <= 200
    for each in both:
        await each.settle(flush=True)
    window = int(clock.now().timestamp() // 60)
    stored = int(await client.get(f"{settings.redis_prefix}:ratelimit:operator:o1:{window}"))
    assert stored == admitted  # given back what was not spent: Redis counts exactly what ran


async def test_a_caller_at_its_limit_is_refused_with_the_windows_retry_time(shared) -> None:  # type: ignore[no-untyped-def]
    client, settings = shared
    settings = settings.model_copy(update={"rate_limit_scale": 1.0, "operator_requests_per_minute": 100})
    clock = FakeClock(datetime.now(UTC).replace(second=15, microsecond=0))
    both = [Allowances(client), Allowances(client)]
    limits = [request_limits(settings, each, clock, client) for each in both]
    admitted, refusal = 0, None
    for i in range(400):
        decision = await limits[i % 2].check_request(operator())
        if decision.allowed:
            admitted += 1
            continue
        refusal = decision
        if not any(each.unspent() for each in both):
            break  # refused with nothing leased anywhere: the caller is at its limit
        for each in both:  # the other process's unspent lease: given back at its next settlement
            await each.settle(flush=True)
    assert admitted == 100
    assert refusal is not None and (refusal.retry_after, refusal.limit) == (45, 100)


async def test_two_processes_pour_no_more_cost_than_the_capacity_in_a_burst(shared) -> None:  # type: ignore[no-untyped-def]
    client, settings = shared
    settings = settings.model_copy(update={"cost_points_per_request": 20})
    (first, a), (second, b) = budgets(client, settings), budgets(client, settings)
    capacity = 60 * 20
    burst = [(first, second)[i % 2].charge("client:c1", 60, 10) for i in range(200)]
    burst += [each.settle() for each in (a, b) for _ in range(5)]
    throttles = [t for t in await asyncio.gather(*burst) if t is not None]
    poured = 10 * sum(t.allowed for t in throttles)
    assert 0 < poured <= capacity  # the clock stands still: the leak bound is zero
    assert all(0 <= t.level <= capacity for t in throttles)
    for each in (a, b):
        await each.settle(flush=True)
    level = float(await client.hget(f"{settings.redis_prefix}:edge:cost:client:c1", "l"))
    assert level == poured


async def test_a_spent_budget_is_refused_with_rate_limited_and_its_wait(shared) -> None:  # type: ignore[no-untyped-def]
    client, settings = shared
    settings = settings.model_copy(update={"cost_points_per_request": 20})
    (first, a), (second, b) = budgets(client, settings), budgets(client, settings)
    spent = 0
    for i in range(200):  # a full bucket: 1200 points, leaking 20 a second
        spent += 10 * (await (first, second)[i % 2].charge("client:c2", 60, 10)).allowed
        if spent == 1200:
            break
        if i % 10 == 9:
            for each in (a, b):
                await each.settle(flush=True)
    assert spent == 1200
    refused = await second.charge("client:c2", 60, 100)
    assert not refused.allowed and refused.wait_seconds == pytest.approx(5.0)  # 100 points at 20 a second
    error = rate_limited("spent", refused.wait_seconds, limit=refused.capacity, cost=100)
    assert isinstance(error, CodedError)
    assert error.extensions == {"code": "RATE_LIMITED", "retryAfter": 5, "limit": 1200, "cost": 100}
    assert refused.headers()["RateLimit-Remaining"] == "0"


async def test_what_one_process_spent_is_seen_by_the_other_after_a_settlement(shared) -> None:  # type: ignore[no-untyped-def]
    client, settings = shared
    (first, a), (second, _) = budgets(client, settings), budgets(client, settings)
    for _ in range(5):
        assert (await first.charge("client:c3", 60, 10)).allowed
    assert a.unspent() > 0  # the first charge leased points; the next four were poured in memory
    await a.settle(flush=True)
    seen = await second.charge("client:c3", 60, 10)
    assert seen.allowed and seen.level == 60  # the other process's 50 points, and its own 10


async def test_a_failed_settlement_keeps_what_it_was_to_give_back(shared) -> None:  # type: ignore[no-untyped-def]
    client, settings = shared
    first, allowances = budgets(client, settings)
    for _ in range(3):
        assert (await first.charge("client:c4", 60, 10)).allowed
    unspent = allowances.unspent()
    assert unspent > 0
    allowances.redis = aioredis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=1)
    await allowances.settle(flush=True)  # Redis is not there: nothing given back, nothing forgotten
    assert allowances.unspent() == unspent
    await allowances.redis.aclose()
    allowances.redis = client
    await allowances.settle(flush=True)
    assert allowances.unspent() == 0
    assert float(await client.hget(f"{settings.redis_prefix}:edge:cost:client:c4", "l")) == 30


async def test_with_redis_down_each_process_counts_on_its_own(shared) -> None:  # type: ignore[no-untyped-def]
    _client, settings = shared
    settings = settings.model_copy(update={"rate_limit_scale": 1.0, "operator_requests_per_minute": 3})
    down = aioredis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=1)
    clock = FakeClock(datetime.now(UTC).replace(second=0, microsecond=0))
    limits = request_limits(settings, Allowances(down), clock, down)
    decisions = [await limits.check_request(operator()) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]  # fail open, but still a limit
    budget = CostBudgets(RedisCounters(down, "x", Allowances(down), clock=lambda: NOW), settings)
    assert (await budget.charge("client:c5", 60, 10)).allowed
    await down.aclose()


async def test_a_stopping_process_gives_back_what_it_leased(shared, backend) -> None:  # type: ignore[no-untyped-def]
    client, settings = shared
    strict = backend.settings.model_copy(update={"rate_limit_scale": 1.0})
    async with process(strict, minute_start()) as served:
        assert served.container.allowances is not None and served.container.allowances.settle_seconds > 0
        token = await served.login("std001")
        served.token = None
        for _ in range(10):
            response = await served.http.post("/graphql", json=ME, headers={"authorization": f"Bearer {token}"})
            assert response.status_code == 200
    keys = [key async for key in client.scan_iter(f"{settings.redis_prefix}:ratelimit:client:*")]
    # STANDARD: 60 a minute, room for leases; the lifespan's stop gave back what was not spent
    assert len(keys) == 1 and int(await client.get(keys[0])) == 10


async def test_anonymous_requests_per_address_are_leased_within_the_limit(shared) -> None:  # type: ignore[no-untyped-def]
    client, settings = shared
    both = [Allowances(client), Allowances(client)]
    counters = [RedisCounters(client, f"{settings.redis_prefix}:edge", each, clock=lambda: NOW) for each in both]
    burst = [counters[i % 2].count("requests:203.0.113.7", 60, 60) for i in range(100)]
    burst += [each.settle() for each in both for _ in range(3)]
    counts = [c for c in await asyncio.gather(*burst) if c is not None]
    admitted = sum(count <= 60 for count, _ in counts)
    assert 0 < admitted <= 60
    for each in both:
        await each.settle(flush=True)
    stored = await client.get(f"{settings.redis_prefix}:edge:requests:203.0.113.7:{int(NOW // 60)}")
    assert int(stored) == admitted


async def test_over_http_a_leasing_process_refuses_exactly_past_the_limit(backend) -> None:  # type: ignore[no-untyped-def]
    strict = backend.settings.model_copy(update={"rate_limit_scale": 1.0})
    async with process(strict, minute_start()) as served:
        await served.execute(EDIT, {"rpm": 40, "subs": 20}, token=await admin_token(served))
        token = await served.login("std001")
        served.token = None
        headers = {"authorization": f"Bearer {token}"}
        statuses = [(await served.http.post("/graphql", json=ME, headers=headers)).status_code for _ in range(41)]
        assert statuses == [200] * 40 + [429]  # on Redis with room for leases: one process spends its own
        refused = await served.http.post("/graphql", json=ME, headers=headers)
        assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 60, "limit": 40}
