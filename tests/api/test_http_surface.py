"""The HTTP surface besides GraphQL itself: health, metrics, GraphiQL, WebSocket origins."""

from __future__ import annotations

import pytest
from httpx_ws import WebSocketDisconnect, WebSocketUpgradeError, aconnect_ws

from brokerql.container import Container
from tests.api.conftest import GraphQLClient, serve_in_process


async def test_healthz_checks_database_and_bus(client: GraphQLClient) -> None:
    response = await client.http.get("/healthz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("status", "database", "bus")} == {"status": "ok", "database": "ok", "bus": "ok"}
    assert body["exchange"]["live"] is True and body["exchange"]["role"] == "active"


async def test_metrics_count_graphql_requests(client: GraphQLClient) -> None:
    def requests_done(text: str) -> float:
        prefix = 'brokerql_graphql_operations_total{operation="liveServers",outcome="OK",type="query"}'
        lines = [x for x in text.splitlines() if x.startswith(prefix)]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    before = requests_done((await client.http.get("/metrics")).text)
    await client.execute("{ liveServers { url } }")
    await client.execute("{ liveServers { url } }")
    after = (await client.http.get("/metrics")).text
    assert requests_done(after) == before + 2
    assert "brokerql_websockets_open" in after


async def test_graphiql_is_served_to_browsers(client: GraphQLClient) -> None:
    response = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_websocket_from_a_foreign_origin_is_refused(backend) -> None:  # type: ignore[no-untyped-def]
    settings = backend.settings.model_copy(update={"allowed_origins": ["https://terminal.broker.example"]})
    async with serve_in_process(settings, Container.build(settings)) as client:
        # Refused during the handshake (policy violation), before any GraphQL message is read.
        with pytest.raises((WebSocketUpgradeError, WebSocketDisconnect)):
            async with aconnect_ws(
                "http://test/graphql",
                client.http,
                subprotocols=["graphql-transport-ws"],
                headers={"origin": "https://evil.example"},
            ):
                pass
        async with aconnect_ws(
            "http://test/graphql",
            client.http,
            subprotocols=["graphql-transport-ws"],
            headers={"origin": "https://terminal.broker.example"},
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": {}})
            assert (await ws.receive_json())["type"] == "connection_ack"
