"""graphql-transport-ws: refused operations get an `error` message; an expiring token ends its streams."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from brokerql.services.tokens import AccessTokens
from tests.api.conftest import GraphQLClient


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("subscription { heartbeat { lastSeq ", "BAD_USER_INPUT"),
        ("subscription { heartbeat { nosuchfield } }", "BAD_USER_INPUT"),
        ("subscription { heartbeat { lastSeq @aa @aa } }", "QUERY_TOO_COMPLEX"),
    ],
    ids=["syntax", "validation", "limit"],
)
async def test_a_refused_subscribe_gets_an_error_message(client: GraphQLClient, query: str, code: str) -> None:
    await client.login("gold001")
    async with client.subscribe(query) as stream:
        message = await stream.next()
        assert message["type"] == "error", message
        assert message["id"] == "1"
        assert [e["extensions"]["code"] for e in message["payload"]] == [code]


async def test_an_expiring_token_ends_its_streams(client: GraphQLClient) -> None:
    token = await client.login("gold001")
    clock = client.container.clock  # the app's one clock (a fake one here): the token expires when it moves
    principal = client.container.access_tokens.verify(token, now=clock.now())
    short = AccessTokens(client.container.settings.signing_key, timedelta(seconds=2))
    brief, _ = short.issue(principal.subject_id, "client", now=clock.now(), session_id=principal.session_id)
    async with client.subscribe("subscription { heartbeat { lastSeq } }", token=brief) as stream:
        assert (await stream.next_data())["data"]["heartbeat"]
        clock.advance(seconds=3)
        while True:  # heartbeats until the token is seen expired, then UNAUTHENTICATED and the end
            message = await asyncio.wait_for(stream.next(), 10)
            if message["type"] == "next" and not message["payload"].get("errors"):
                continue
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert "expired" in errors[0]["message"]
            break


async def test_a_tier_change_reshapes_open_streams(client: GraphQLClient) -> None:
    """A GOLD client's quote stream carries depth; once an operator sets the client to STANDARD, the same
    stream's next snapshots carry a FORBIDDEN error for depth (entitlements are checked per event)."""
    await client.login("gold001")
    me = await client.execute("{ me { id } }")
    admin = await client.execute(
        'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }', token=""
    )
    admin_token = admin["data"]["operatorLogin"]["accessToken"]
    query = 'subscription { quotes(symbols: ["600000"]) { symbol depth { bids { price } } } }'
    async with client.subscribe(query) as stream:
        first = await stream.next_data()
        assert first["data"]["quotes"]["depth"] is not None and "errors" not in first
        forced = await client.execute(
            'mutation($c: ID!) { forceLevel(clientId: $c, tier: "STANDARD", reason: "test") { ok errors { code } } }',
            {"c": me["data"]["me"]["id"]},
            token=admin_token,
        )
        assert forced["data"]["forceLevel"]["ok"], forced
        for _ in range(200):  # the tier cache holds for a second; snapshots arrive every tick
            payload = await stream.next_data()
            if payload.get("errors"):
                assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
                assert payload["data"]["quotes"]["depth"] is None
                break
        else:
            raise AssertionError("the stream kept Level-2 depth after the downgrade")
