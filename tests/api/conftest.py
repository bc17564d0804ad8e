"""An in-process app per test (ASGI over HTTP and WebSocket) and a small GraphQL client."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from sqlalchemy import update

from brokerql.api.app import create_app
from brokerql.container import Container
from brokerql.store.tables_identity import AuthSessionRow
from tests.fakes import FakeClock

PASSWORD = "Demo#2026"


class GraphQLClient:
    """POSTs GraphQL and opens graphql-transport-ws subscriptions against the in-process app."""

    def __init__(self, http: httpx.AsyncClient, container: Container) -> None:
        self.http = http
        self.container = container
        self.token: str | None = None

    async def execute(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict:
        headers = {}
        if token or self.token:
            headers["authorization"] = f"Bearer {token or self.token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def login(self, username: str, password: str = PASSWORD) -> str:
        result = await self.execute(
            "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) "
            "{ accessToken refreshToken errors { code } } }",
            {"u": username, "p": password},
        )
        assert result["data"]["login"]["errors"] == [], result
        self.token = result["data"]["login"]["accessToken"]
        return self.token

    async def switch_account(self, account_type: str) -> str:
        """Make the session act for another account type (orders elsewhere are refused): the new token."""
        result = await self.execute(
            "mutation($t: AccountType!) { switchAccount(accountType: $t) { accessToken errors { code } } }",
            {"t": account_type},
        )
        assert result["data"]["switchAccount"]["errors"] == [], result
        self.token = result["data"]["switchAccount"]["accessToken"]
        return self.token

    async def account_id(self, account_type: str = "CASH") -> str:
        me = await self.execute("{ me { accounts { id type } } }")
        return next(a["id"] for a in me["data"]["me"]["accounts"] if a["type"] == account_type)

    @contextlib.asynccontextmanager
    async def subscribe(self, query: str, variables: dict | None = None, token: str | None = None):
        # A variable the operation does not declare is ignored by the server, silently: a stream meant to
        # start at `afterSeq: 0` then started at the account's last event and raced the test's own orders.
        undeclared = [name for name in variables or {} if not re.search(rf"\${name}\b", query)]
        assert not undeclared, f"the subscription does not declare {undeclared}: the server would ignore them"
        async with aconnect_ws("http://test/graphql", self.http, subprotocols=["graphql-transport-ws"]) as ws:
            bearer = token or self.token  # none: an anonymous connection
            await ws.send_json(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"} if bearer else {}}
            )
            ack = await asyncio.wait_for(ws.receive_json(), 5)
            assert ack["type"] == "connection_ack", ack
            await ws.send_json(
                {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}
            )
            yield Stream(ws)


class Stream:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def next(self, timeout: float = 10) -> dict:
        message = await asyncio.wait_for(self.ws.receive_json(), timeout)
        return message

    async def next_data(self, timeout: float = 10) -> dict:
        message = await self.next(timeout)
        assert message["type"] == "next", message
        return message["payload"]


@pytest.fixture
async def app_container(backend) -> AsyncIterator[Container]:
    """The app's parts, with a fake clock that starts at the real time and moves only when a test moves
    it (`client.container.clock.advance(...)`)."""
    container = Container.build(backend.settings, clock=FakeClock(datetime.now(UTC)))
    yield container


@contextlib.asynccontextmanager
async def serve_in_process(settings, container: Container) -> AsyncIterator[GraphQLClient]:  # type: ignore[no-untyped-def]
    """Run the app's lifespan and an HTTP/WS client in one task of their own.

    The transport's anyio task group must be entered and left by the same task; pytest-asyncio may
    finalise a fixture from another one, so the contexts live in a dedicated task.
    """
    app = create_app(settings, container)
    ready: asyncio.Future[GraphQLClient] = asyncio.get_running_loop().create_future()
    done = asyncio.Event()

    async def hold() -> None:
        try:
            async with app.router.lifespan_context(app):
                transport = ASGIWebSocketTransport(app)
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                    ready.set_result(GraphQLClient(http, container))
                    await done.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    task = asyncio.create_task(hold())
    try:
        yield await ready
    finally:
        done.set()
        await task


@pytest.fixture
async def client(backend, app_container: Container) -> AsyncIterator[GraphQLClient]:
    async with serve_in_process(backend.settings, app_container) as graphql_client:
        yield graphql_client


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll an async predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def make_idle(client: GraphQLClient, token: str) -> None:
    """The session's last HTTP request was 20 minutes ago (idle lock: 15)."""
    container = client.container
    principal = container.access_tokens.verify(token, now=container.clock.now())
    async with container.db.transaction() as uow:
        stale = container.clock.now() - timedelta(minutes=20)
        await uow.session.execute(
            update(AuthSessionRow).where(AuthSessionRow.id == principal.session_id).values(last_seen_at=stale)
        )
    container.identity.sessions.forget(principal.session_id)
