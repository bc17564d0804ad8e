"""A4 limits enforced per caller: requests per minute (HTTP 429 + RATE_LIMITED, shared on Redis) and
concurrent subscriptions (RATE_LIMITED on subscribe). Limits come from the tier, edited with editTier."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from brokerql.container import Container
from tests.api.conftest import GraphQLClient, serve_in_process
from tests.fakes import FakeClock

ME = {"query": "{ me { username } }"}
HEARTBEAT = "subscription { heartbeat { lastSeq } }"
EDIT = """mutation($rpm: Int, $subs: Int) { editTier(input: {code: "STANDARD", requestsPerMinute: $rpm,
  maxSubscriptions: $subs}) { limits { requestsPerMinute maxSubscriptions } } }"""


def minute_start() -> datetime:
    """The start of the current minute: the clock every process of a test is pinned to."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


@contextlib.asynccontextmanager
async def process(settings, at: datetime) -> AsyncIterator[GraphQLClient]:  # type: ignore[no-untyped-def]
    container = Container.build(settings, with_exchange=False, clock=FakeClock(at))
    async with serve_in_process(settings, container) as graphql_client:
        yield graphql_client


async def admin_token(client: GraphQLClient) -> str:
    result = await client.execute(
        'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }'
    )
    return result["data"]["operatorLogin"]["accessToken"]


@pytest.fixture
def strict(backend):  # type: ignore[no-untyped-def]
    """The backend's settings with the real limits (the suite scales them up)."""
    return backend.settings.model_copy(update={"rate_limit_scale": 1.0})


async def test_requests_beyond_the_tier_budget_get_429_until_the_next_minute(strict) -> None:  # type: ignore[no-untyped-def]
    at = minute_start()
    async with process(strict, at) as client:
        edited = await client.execute(EDIT, {"rpm": 3, "subs": 20}, token=await admin_token(client))
        assert edited["data"]["editTier"]["limits"]["requestsPerMinute"] == 3
        token = await client.login("std001")
        client.token = None
        headers = {"authorization": f"Bearer {token}"}
        for _ in range(3):
            assert (await client.http.post("/graphql", json=ME, headers=headers)).status_code == 200
        limited = await client.http.post("/graphql", json=ME, headers=headers)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
        error = limited.json()["errors"][0]
        assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 60, "limit": 3}
        other = await client.login("std002")  # the budget is per client
        assert (await client.execute(ME["query"], token=other))["data"]["me"]["username"] == "std002"
        client.container.clock.advance(timedelta(seconds=60))
        assert (await client.http.post("/graphql", json=ME, headers=headers)).status_code == 200


async def test_operators_have_their_own_generous_limit(strict) -> None:  # type: ignore[no-untyped-def]
    async with process(strict, minute_start()) as client:
        token = await admin_token(client)
        await client.execute(EDIT, {"rpm": 1, "subs": 20}, token=token)
        for _ in range(10):
            result = await client.execute("{ currentOperator { username } }", token=token)
            assert result["data"]["currentOperator"]["username"] == "admin"


async def test_the_budget_is_shared_across_processes_on_redis(backend, strict) -> None:  # type: ignore[no-untyped-def]
    at = minute_start()
    async with process(strict, at) as first, process(strict, at) as second:
        await first.execute(EDIT, {"rpm": 3, "subs": 20}, token=await admin_token(first))
        await second.container.identity.tiers.refresh()
        token = await first.login("std001")
        first.token = None
        headers = {"authorization": f"Bearer {token}"}
        for _ in range(3):
            assert (await first.http.post("/graphql", json=ME, headers=headers)).status_code == 200
        fourth = await second.http.post("/graphql", json=ME, headers=headers)
        # On Redis both processes draw on one budget; with the in-process bus each counts its own.
        assert fourth.status_code == (429 if strict.redis_url else 200), backend.name


async def test_subscriptions_beyond_the_tier_maximum_are_refused(strict) -> None:  # type: ignore[no-untyped-def]
    async with process(strict, minute_start()) as client:
        await client.execute(EDIT, {"rpm": 100, "subs": 1}, token=await admin_token(client))
        token = await client.login("std001")
        async with client.subscribe(HEARTBEAT, token=token) as first:
            assert (await first.next_data())["data"]["heartbeat"]
            async with client.subscribe(HEARTBEAT, token=token) as second:
                message = await second.next()
                errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
                assert errors[0]["extensions"] == {"code": "RATE_LIMITED", "reason": "TOO_MANY_SUBSCRIPTIONS",
                                                   "limit": 1}  # fmt: skip
        async with client.subscribe(HEARTBEAT, token=token) as again:  # the slot is free once closed
            assert (await again.next_data())["data"]["heartbeat"]
