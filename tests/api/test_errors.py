"""Bad input gets a coded error, never a 500 or a traceback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from brokerql.schema import build_schema
from brokerql.services.tokens import AccessTokens
from tests.api.conftest import GraphQLClient


def codes(result: dict) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]


async def test_malformed_query_is_bad_user_input(client: GraphQLClient) -> None:
    result = await client.execute("{ me { name ")
    assert codes(result) == ["BAD_USER_INPUT"]


async def test_unknown_field_is_bad_user_input(client: GraphQLClient) -> None:
    result = await client.execute("{ me { nosuchfield } }")
    assert codes(result) == ["BAD_USER_INPUT"]


async def test_wrong_variable_type_is_bad_user_input(client: GraphQLClient) -> None:
    await client.login("gold001")
    result = await client.execute("query($s: String!) { quote(symbol: $s) { last } }", {"s": 600000})
    assert codes(result) == ["BAD_USER_INPUT"]


async def test_no_token_is_unauthenticated(client: GraphQLClient) -> None:
    assert codes(await client.execute("{ me { name } }")) == ["UNAUTHENTICATED"]


async def test_garbage_and_expired_tokens_are_unauthenticated(client: GraphQLClient) -> None:
    assert codes(await client.execute("{ me { name } }", token="not-a-jwt")) == ["UNAUTHENTICATED"]
    settings = client.container.settings
    expired = AccessTokens(settings.signing_key, lifetime=-timedelta(seconds=1))
    token, _ = expired.issue("cli_x", "client", now=client.container.clock.now())
    result = await client.execute("{ me { name } }", token=token)
    assert codes(result) == ["UNAUTHENTICATED"]
    assert "expired" in result["errors"][0]["message"]


async def test_too_deep_or_too_many_aliases_is_query_too_complex() -> None:
    schema = build_schema(max_depth=2, max_aliases=3)
    deep = await schema.execute("{ me { accounts { positions { symbol } } } }")
    assert [e.extensions["code"] for e in deep.errors] == ["QUERY_TOO_COMPLEX"]
    aliases = await schema.execute("{ a: me { name } b: me { name } c: me { name } d: me { name } }")
    assert [e.extensions["code"] for e in aliases.errors] == ["QUERY_TOO_COMPLEX"]


async def test_unknown_symbol_is_not_found(client: GraphQLClient) -> None:
    await client.login("gold001")
    result = await client.execute('{ quote(symbol: "999999") { last } }')
    assert codes(result) == ["NOT_FOUND"]


async def test_unexpected_failure_is_masked_with_an_error_id(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await client.login("gold001")

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(client.container.trading_queries, "client", broken)
    result = await client.execute("{ me { name } }")
    error = result["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["errorId"] in error["message"]
    assert "hunter2" not in str(result)
    assert any(error["extensions"]["errorId"] in r.getMessage() for r in caplog.records)


async def test_invalid_json_body_is_a_400_not_a_500(client: GraphQLClient) -> None:
    response = await client.http.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
