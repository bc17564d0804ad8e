"""Quotas (E1): attempts per address, spraying across names, one check at a time per name, cost budgets,
anonymous callers, and the address a trusted proxy vouches for."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from brokerql.api.addresses import AddressResolver
from brokerql.container import Container
from tests.api.conftest import GraphQLClient, serve_in_process

LOGIN = (
    "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken errors { code } } }"
)


@contextlib.asynccontextmanager
async def limited(backend: Any, **overrides: Any) -> AsyncIterator[GraphQLClient]:
    settings = backend.settings.model_copy(update={"rate_limit_scale": 1, **overrides})
    async with serve_in_process(settings, Container.build(settings)) as client:
        yield client


async def login(client: GraphQLClient, username: str, password: str) -> dict:
    response = await client.http.post("/graphql", json={"query": LOGIN, "variables": {"u": username, "p": password}})
    return response.json()


class CountingPasswords:
    """The real password hasher, counting how many passwords it was asked to check."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.checked = 0

    def verify(self, stored: Any, password: str) -> bool:
        self.checked += 1
        return self.inner.verify(stored, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def outcome(body: dict) -> str:
    if body.get("errors"):
        return body["errors"][0]["extensions"]["code"]
    errors = body["data"]["login"]["errors"]
    return errors[0]["code"] if errors else "OK"


async def test_spraying_names_from_one_address_needs_a_captcha_then_is_blocked(backend: Any) -> None:
    async with limited(backend, attempts_per_minute=1000, spray_captcha_names=3, spray_block_names=6) as client:
        seen = [outcome(await login(client, f"nobody{i:02d}", "wrong-password")) for i in range(25)]
        assert seen[:3] == ["INVALID_CREDENTIALS"] * 3
        assert seen[3:6] == ["CAPTCHA_REQUIRED"] * 3  # no captcha: refused without a password check
        assert set(seen[6:]) == {"RATE_LIMITED"}
        right = await login(client, "gold001", "Demo#2026")
        assert outcome(right) == "RATE_LIMITED"
        assert right["errors"][0]["extensions"]["retryAfter"] >= 1


async def test_attempts_inside_aliases_count_one_each(backend: Any) -> None:
    # Attempts are counted in fixed minutes of the clock: a minute that ends between the two requests
    # would start the count again (and the spraying check would answer CAPTCHA_REQUIRED instead).
    if (into := time.time() % 60) > 45:
        await asyncio.sleep(60 - into + 0.1)
    async with limited(backend, attempts_per_minute=5) as client:
        aliases = " ".join(
            f'a{i}: login(input: {{username: "gold00{i}", password: "wrong"}}) {{ errors {{ code }} }}'
            for i in range(6)
        )
        body = (await client.http.post("/graphql", json={"query": f"mutation {{ {aliases} }}"})).json()
        # Attempts 1-5 of the minute are checked; the sixth alias is refused.
        assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]
        assert body["errors"][0]["path"] == ["a5"] and body["errors"][0]["extensions"]["retryAfter"] >= 1
        assert outcome(await login(client, "std001", "Demo#2026")) == "RATE_LIMITED"


async def test_parallel_wrong_logins_for_one_name_check_no_more_than_allowed(backend: Any) -> None:
    async with limited(backend, attempts_per_minute=1000, spray_captcha_names=100, spray_block_names=200) as client:
        counting = CountingPasswords(client.container.auth.passwords)
        client.container.auth.passwords = counting  # type: ignore[assignment]
        results = await asyncio.gather(*(login(client, "silver001", f"guess-{i}") for i in range(60)))
        assert all(outcome(r) != "OK" for r in results)
        # captcha_after = 3: sequentially three passwords are checked before a captcha is needed.
        assert 1 <= counting.checked <= 3, counting.checked


async def test_cost_budget_refuses_with_retry_after_and_ratelimit_headers(backend: Any) -> None:
    async with limited(backend, cost_points_per_request=1, anonymous_requests_per_minute=1000) as client:
        await client.login("std001")  # STANDARD: 60 requests a minute -> 60 points
        headers = {"authorization": f"Bearer {client.token}"}
        query = {"query": "{ instruments(first: 10) { edges { node { symbol } } } }"}  # 30 points
        first = await client.http.post("/graphql", json=query, headers=headers)
        assert first.status_code == 200 and first.headers["ratelimit-limit"] == "60"
        assert int(first.headers["ratelimit-remaining"]) <= 30
        assert first.json()["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 60
        responses = [await client.http.post("/graphql", json=query, headers=headers) for _ in range(2)]
        refused = responses[-1]
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        error = refused.json()["errors"][0]["extensions"]
        assert error["code"] == "RATE_LIMITED" and error["retryAfter"] >= 1 and error["cost"] == 30


async def test_anonymous_callers_are_limited_per_address(backend: Any) -> None:
    async with limited(backend, anonymous_requests_per_minute=3) as client:
        statuses = [
            (await client.http.post("/graphql", json={"query": "{ __typename }"})).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        refused = await client.http.post("/graphql", json={"query": "{ __typename }"})
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(refused.headers["retry-after"]) >= 1


def test_forwarded_for_is_read_only_from_trusted_proxies() -> None:
    resolver = AddressResolver(["10.0.0.0/8"])
    headers = [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.7, 10.1.2.3")]
    assert resolver.resolve({"client": ("10.0.0.1", 1), "headers": headers}) == "203.0.113.7"
    assert resolver.resolve({"client": ("198.51.100.9", 1), "headers": headers}) == "198.51.100.9"
    assert AddressResolver([]).resolve({"client": ("10.0.0.1", 1), "headers": headers}) == "10.0.0.1"
