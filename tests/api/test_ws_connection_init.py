"""graphql-transport-ws connection_init: credentials that do not verify close the socket with 4403
(Forbidden) instead of being acknowledged; anonymous and valid connections are acknowledged."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws

from tests.api.conftest import GraphQLClient


async def connection_init(client: GraphQLClient, payload: dict) -> dict:
    """The server's answer to connection_init: the ack message, or {"closed": code}."""
    async with aconnect_ws("http://test/graphql", client.http, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": payload})
        try:
            return await asyncio.wait_for(ws.receive_json(), 5)
        except WebSocketDisconnect as closed:
            return {"closed": closed.code, "reason": closed.reason}


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "garbage"])
async def test_a_malformed_token_is_forbidden(client: GraphQLClient, authorization: str) -> None:
    assert await connection_init(client, {"authorization": authorization}) == {"closed": 4403, "reason": "Forbidden"}


async def test_an_expired_token_is_forbidden(client: GraphQLClient) -> None:
    token = await client.login("std001")
    assert (await connection_init(client, {"authorization": f"Bearer {token}"}))["type"] == "connection_ack"
    client.container.clock.advance(timedelta(minutes=16))  # access tokens live 15 minutes
    assert await connection_init(client, {"Authorization": f"Bearer {token}"}) == {
        "closed": 4403,
        "reason": "Forbidden",
    }


async def test_a_revoked_session_is_forbidden(client: GraphQLClient) -> None:
    token = await client.login("gold001")
    assert (await client.execute("mutation { logout { ok } }"))["data"]["logout"]["ok"]
    assert await connection_init(client, {"authorization": f"Bearer {token}"}) == {
        "closed": 4403,
        "reason": "Forbidden",
    }


async def test_anonymous_connections_are_acknowledged(client: GraphQLClient) -> None:
    assert (await connection_init(client, {}))["type"] == "connection_ack"
