"""Tokens and sessions: refresh rotation and reuse, logout and revocation reaching an open subscription,
the idle lock and the communication password, partner client credentials (F1), client versions (F2)."""

from __future__ import annotations

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws

from brokerql.container import Container
from brokerql.services.identity.demo import DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET
from tests.api.conftest import PASSWORD, GraphQLClient, make_idle, serve_in_process

LOGIN = """mutation($u: String!) { login(input: {username: $u, password: "Demo#2026"}) {
  accessToken refreshToken errors { code } } }"""
REFRESH = """mutation($t: String!) { refreshSession(input: {refreshToken: $t}) {
  accessToken refreshToken errors { code } } }"""
HEARTBEAT = "subscription { heartbeat { lastSeq serverTime } }"


async def tokens(client: GraphQLClient, username: str) -> dict:
    return (await client.execute(LOGIN, {"u": username}))["data"]["login"]


def code_of(result: dict) -> str:
    return result["errors"][0]["extensions"]["code"]


async def test_refresh_rotates_and_reuse_revokes_the_family(client: GraphQLClient) -> None:
    first = await tokens(client, "std001")
    second = (await client.execute(REFRESH, {"t": first["refreshToken"]}))["data"]["refreshSession"]
    assert second["errors"] == [] and second["refreshToken"] != first["refreshToken"]
    assert "errors" not in await client.execute("{ me { username } }", token=second["accessToken"])
    reused = (await client.execute(REFRESH, {"t": first["refreshToken"]}))["data"]["refreshSession"]
    assert reused["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
    # The whole family is gone: the newest refresh token and every access token of the session.
    newest = (await client.execute(REFRESH, {"t": second["refreshToken"]}))["data"]["refreshSession"]
    assert newest["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
    assert code_of(await client.execute("{ me { username } }", token=second["accessToken"])) == "UNAUTHENTICATED"
    assert code_of(await client.execute("{ me { username } }", token=first["accessToken"])) == "UNAUTHENTICATED"
    other = await tokens(client, "std001")  # another session of the same client is untouched
    assert "errors" not in await client.execute("{ me { username } }", token=other["accessToken"])


async def test_logout_closes_an_open_subscription(client: GraphQLClient) -> None:
    session = await tokens(client, "gold001")
    async with client.subscribe(HEARTBEAT, token=session["accessToken"]) as stream:
        assert (await stream.next_data())["data"]["heartbeat"]
        result = await client.execute("mutation { logout { ok } }", token=session["accessToken"])
        assert result["data"]["logout"]["ok"]
        while True:  # within one heartbeat the stream ends with UNAUTHENTICATED
            message = await stream.next()
            if message["type"] == "next" and not message["payload"].get("errors"):
                continue
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
            break
    assert code_of(await client.execute("{ me { id } }", token=session["accessToken"])) == "UNAUTHENTICATED"
    refreshed = (await client.execute(REFRESH, {"t": session["refreshToken"]}))["data"]["refreshSession"]
    assert refreshed["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]


async def test_revocation_in_another_process_reaches_this_one(backend, client: GraphQLClient) -> None:
    """An operator in process B revokes the client's sessions; process A's open stream ends."""
    session = await tokens(client, "silver001")
    other = Container.build(backend.settings, with_exchange=False)
    async with serve_in_process(backend.settings, other) as admin:
        op = await admin.execute('mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) '
                                 "{ accessToken } }")  # fmt: skip
        admin.token = op["data"]["operatorLogin"]["accessToken"]
        me = await client.execute("{ me { id } }", token=session["accessToken"])
        async with client.subscribe(HEARTBEAT, token=session["accessToken"]) as stream:
            await stream.next_data()
            revoke = await admin.execute(
                "mutation($c: ID!) { revokeClientSessions(clientId: $c) { ok } }", {"c": me["data"]["me"]["id"]}
            )
            assert revoke["data"]["revokeClientSessions"]["ok"], revoke
            while True:
                message = await stream.next()
                if message["type"] == "next" and not message["payload"].get("errors"):
                    continue
                errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
                assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
                break


async def test_idle_lock_is_lifted_only_by_the_communication_password(client: GraphQLClient) -> None:
    session = await tokens(client, "std001")
    token = session["accessToken"]
    setq = 'mutation($c: String!) { setCommunicationPassword(password: "Demo#2026", communicationPassword: $c) { ok } }'
    assert (await client.execute(setq, {"c": "Comm#2026x"}, token=token))["data"]["setCommunicationPassword"]["ok"]
    await make_idle(client, token)
    locked = await client.execute("{ me { username } }", token=token)
    assert locked["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "SESSION_LOCKED"}
    unlock = "mutation($c: String!) { unlockSession(communicationPassword: $c) { ok errors { code } } }"
    wrong = await client.execute(unlock, {"c": PASSWORD}, token=token)  # the login password does not unlock
    assert wrong["data"]["unlockSession"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert (await client.execute(unlock, {"c": "Comm#2026x"}, token=token))["data"]["unlockSession"]["ok"]
    assert (await client.execute("{ me { username } }", token=token))["data"]["me"]["username"] == "std001"


async def test_partner_client_credentials(client: GraphQLClient) -> None:
    ok = await client.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "tiers.read"},
        auth=(DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET),
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "tiers.read" and body["expires_in"] > 0
    principal = client.container.access_tokens.verify(body["access_token"], now=client.container.clock.now())
    assert principal.kind == "partner" and principal.scopes == {"tiers.read"}
    tiers = await client.execute("{ tiers { code } }", token=body["access_token"])
    assert tiers["data"]["tiers"][0]["code"] == "TRIAL"
    assert code_of(await client.execute("{ me { id } }", token=body["access_token"])) == "UNAUTHENTICATED"
    wrong = await client.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(DEMO_API_CLIENT_ID, "not-the-secret")
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    unknown = await client.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
    )
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    bad_scope = await client.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "orders.write"},
        auth=(DEMO_API_CLIENT_ID, DEMO_API_CLIENT_SECRET),
    )  # fmt: skip
    assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"


@pytest.fixture
async def versioned(backend):  # type: ignore[no-untyped-def]
    settings = backend.settings.model_copy(
        update={"min_client_version": "2.4.0", "allow_missing_client_version": False}
    )
    async with serve_in_process(settings, Container.build(settings, with_exchange=False)) as graphql_client:
        yield graphql_client


async def test_outdated_client_builds_are_refused(versioned: GraphQLClient) -> None:
    http: httpx.AsyncClient = versioned.http
    query = {"query": "{ tiers { code } }"}
    old = await http.post("/graphql", json=query, headers={"x-client-version": "2.3.9"})
    assert old.status_code == 426
    assert old.json()["errors"][0]["extensions"] == {"code": "CLIENT_OUTDATED", "minimumVersion": "2.4.0"}
    assert (await http.post("/graphql", json=query)).status_code == 426  # no version: refused here
    current = await http.post("/graphql", json=query, headers={"x-client-version": "2.4.0"})
    assert current.status_code == 200 and current.json()["data"]["tiers"]
    assert (await http.get("/healthz")).status_code in (200, 503)  # other endpoints are not gated
    async with aconnect_ws(
        "http://test/graphql", http, subprotocols=["graphql-transport-ws"], headers={"x-client-version": "1.0"}
    ) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json()
    assert closed.value.code == 4426 and "2.4.0" in closed.value.reason
