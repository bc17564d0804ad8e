"""/healthz's dependency checks: shared by concurrent callers, reused for a second, failures reported."""

from __future__ import annotations

import asyncio

from brokerql.api.health import DependencyChecks


async def test_concurrent_callers_share_one_check_and_a_result_is_reused_within_its_ttl() -> None:
    calls = []

    async def database() -> None:
        calls.append("database")
        await asyncio.sleep(0.01)

    checks = DependencyChecks((("database", database),), ttl=60)
    results = await asyncio.gather(*(checks.results() for _ in range(20)))
    assert results == [{"database": "ok"}] * 20 and calls == ["database"]
    assert await checks.results() == {"database": "ok"} and calls == ["database"]


async def test_a_failing_dependency_is_reported_by_the_next_check_after_the_ttl() -> None:
    healthy = True

    async def bus() -> None:
        if not healthy:
            raise ConnectionError("bus down")

    checks = DependencyChecks((("bus", bus),), ttl=0)
    assert await checks.results() == {"bus": "ok"}
    healthy = False
    assert await checks.results() == {"bus": "error: ConnectionError"}
