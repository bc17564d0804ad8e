"""Sessions end when an operator locks the client, when the password changes (all but the session that
changed it), and when an operator revokes them (test_auth_tokens); open streams end at the next
heartbeat. The idle lock (A6) reaches open streams too: a session without HTTP requests is locked."""

from __future__ import annotations

import asyncio

from brokerql.container import Container
from tests.api.conftest import GraphQLClient, Stream, make_idle, serve_in_process

LOGIN = """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
  accessToken refreshToken errors { code } } }"""
REFRESH = "mutation($t: String!) { refreshSession(input: {refreshToken: $t}) { accessToken errors { code } } }"
HEARTBEAT = "subscription { heartbeat { lastSeq } }"
ME = "{ me { id username } }"


async def login(client: GraphQLClient, username: str, password: str = "Demo#2026") -> dict:
    return (await client.execute(LOGIN, {"u": username, "p": password}))["data"]["login"]


async def admin(client: GraphQLClient) -> str:
    result = await client.execute(
        'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }'
    )
    return result["data"]["operatorLogin"]["accessToken"]


async def ended_with(stream: Stream) -> dict:
    """Skip data messages until the stream ends; return the extensions of its error."""
    while True:
        message = await stream.next()
        if message["type"] == "next" and not message["payload"].get("errors"):
            continue
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        return errors[0]["extensions"]


async def test_locking_a_client_ends_its_sessions_and_streams(client: GraphQLClient) -> None:
    session = await login(client, "gold001")
    me = await client.execute(ME, token=session["accessToken"])
    async with client.subscribe(HEARTBEAT, token=session["accessToken"]) as stream:
        await stream.next_data()
        locked = await client.execute(
            'mutation($c: ID!) { updateClient(clientId: $c, input: {status: "LOCKED"}) { errors { code } } }',
            {"c": me["data"]["me"]["id"]},
            token=await admin(client),
        )
        assert locked["data"]["updateClient"]["errors"] == []
        assert (await ended_with(stream))["code"] == "UNAUTHENTICATED"
    assert (await client.execute(ME, token=session["accessToken"]))["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )
    refreshed = await client.execute(REFRESH, {"t": session["refreshToken"]})
    assert refreshed["data"]["refreshSession"]["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
    assert (await login(client, "gold001"))["errors"] == [{"code": "ACCOUNT_LOCKED"}]


async def test_a_password_change_ends_every_other_session(client: GraphQLClient) -> None:
    changer, other = await login(client, "std001"), await login(client, "std001")
    async with client.subscribe(HEARTBEAT, token=other["accessToken"]) as stream:
        await stream.next_data()
        changed = await client.execute(
            'mutation { changePassword(currentPassword: "Demo#2026", newPassword: "Fresh#2026x") '
            "{ ok errors { code } } }",
            token=changer["accessToken"],
        )
        assert changed["data"]["changePassword"] == {"ok": True, "errors": []}
        assert (await ended_with(stream))["code"] == "UNAUTHENTICATED"
    # The session that changed it keeps its tokens; the other one is gone, refresh token and all.
    assert (await client.execute(ME, token=changer["accessToken"]))["data"]["me"]["username"] == "std001"
    assert (await client.execute(REFRESH, {"t": changer["refreshToken"]}))["data"]["refreshSession"]["errors"] == []
    refused = await client.execute(REFRESH, {"t": other["refreshToken"]})
    assert refused["data"]["refreshSession"]["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
    assert (await login(client, "std001"))["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert (await login(client, "std001", "Fresh#2026x"))["errors"] == []


async def test_an_idle_session_has_its_streams_closed_at_the_next_heartbeat(client: GraphQLClient) -> None:
    session = await login(client, "silver001")
    account = (await client.execute("{ me { accounts { id } } }", token=session["accessToken"]))["data"]["me"]
    events = "subscription($a: ID!) { orderEvents(accountId: $a) { __typename } }"
    async with client.subscribe(events, {"a": account["accounts"][0]["id"]}, token=session["accessToken"]) as stream:
        assert (await stream.next_data())["data"]["orderEvents"]["__typename"] == "Heartbeat"
        await make_idle(client, session["accessToken"])
        assert await ended_with(stream) == {"code": "UNAUTHENTICATED", "reason": "SESSION_LOCKED"}


async def test_streams_can_be_allowed_to_keep_an_idle_session_open(backend) -> None:  # type: ignore[no-untyped-def]
    settings = backend.settings.model_copy(update={"idle_lock_streams": False})
    async with serve_in_process(settings, Container.build(settings, with_exchange=False)) as client:
        session = await login(client, "silver001")
        async with client.subscribe(HEARTBEAT, token=session["accessToken"]) as stream:
            await stream.next_data()
            await make_idle(client, session["accessToken"])
            for _ in range(3):  # heartbeats keep coming
                assert (await stream.next_data())["data"]["heartbeat"]
        locked = await client.execute(ME, token=session["accessToken"])  # HTTP still sees the lock
        assert locked["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "SESSION_LOCKED"}


async def test_an_active_sessions_requests_do_not_read_its_row_again(backend) -> None:  # type: ignore[no-untyped-def]
    """The idle lock is judged from the row this process knows: an active session's row is read once,
    however long its requests go on (a row that would lock it is re-read, at most every
    session_cache_seconds: test_auth_tokens and the idle tests above)."""
    settings = backend.settings.model_copy(update={"session_cache_seconds": 0.01})
    async with serve_in_process(settings, Container.build(settings, with_exchange=False)) as client:
        session = await login(client, "silver001")
        rows = client.container.identity.sessions._live
        read = rows.read
        reads: list[str] = []

        async def counted(session_id: str) -> object:
            reads.append(session_id)
            return await read(session_id)

        rows.read = counted  # type: ignore[method-assign]
        for _ in range(5):
            assert "errors" not in await client.execute(ME, token=session["accessToken"])
            await asyncio.sleep(0.03)  # each request after the old TTL had lapsed
        assert len(reads) <= 1  # at most the first, if the login's own row was not kept
