"""Shared pieces of the operations tests: operator login, an app with a fast monitor, extra processes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from brokerql.bus import create_bus
from brokerql.container import Container
from brokerql.monitor.board import MemoryBoard
from brokerql.monitor.service import Monitor
from brokerql.store.database import Database
from tests.api.conftest import GraphQLClient, serve_in_process

FAST_MONITOR = {"monitor_interval_seconds": 0.2, "monitor_ttl_seconds": 1.0}
STATS = """{ monitorStats {
  processes { id role startedAt connections subscriptions clientsOnline draining }
  cluster { apiProcesses exchangeProcesses connections subscriptions clientsOnline ordersPerSecond fillsPerSecond
    pushesPerSecond }
  alerts { id rule severity raisedAt clearedAt acknowledgedBy } } }"""


async def as_operator(client: GraphQLClient, username: str = "ops") -> str:
    result = await client.execute(
        'mutation($u: String!) { operatorLogin(input: {username: $u, password: "Admin#2026"}) { accessToken } }',
        {"u": username},
    )
    return result["data"]["operatorLogin"]["accessToken"]


async def stats(client: GraphQLClient, token: str) -> dict[str, Any]:
    result = await client.execute(STATS, token=token)
    assert "errors" not in result, result
    return result["data"]["monitorStats"]


@contextlib.asynccontextmanager
async def ops_app(backend: Any, **overrides: Any) -> AsyncIterator[GraphQLClient]:
    with_exchange = overrides.pop("with_exchange", None)
    settings = backend.settings.model_copy(update={**FAST_MONITOR, **overrides})
    container = Container.build(settings, with_exchange=with_exchange)
    async with serve_in_process(settings, container) as client:
        yield client


@contextlib.asynccontextmanager
async def other_process(client: GraphQLClient, role: str) -> AsyncIterator[Monitor]:
    """Another process's monitor agent on the same board: over Redis its own connection to the shared
    keys; in-process (one process by definition) the same MemoryBoard object stands for the shared one."""
    settings = client.container.settings
    bus = create_bus(settings)
    db = Database(settings.database_url)
    monitor = Monitor(settings, db, bus, list(client.container.instruments), role=role)
    if isinstance(client.container.monitor.board, MemoryBoard):
        monitor.board = client.container.monitor.board
    try:
        yield monitor
    finally:
        await bus.close()
        await db.dispose()
