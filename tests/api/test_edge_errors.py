"""Malformed bodies, values and literals: BAD_REQUEST (HTTP 400) or BAD_USER_INPUT, never INTERNAL or a 500."""

from __future__ import annotations

import json

from tests.api.conftest import GraphQLClient

PLACE = """mutation($a: ID!, $p: Decimal) { placeOrder(input: {accountId: $a, symbol: "600000", side: BUY,
  type: LIMIT, quantity: 100, price: $p}) { order { id } errors { code } } }"""


MALFORMED = [b"42", b"null", b'"a string"', b"[" * 10_000 + b"]" * 10_000, b'{"query": "{ a }"\xff}', b"\xc3\x28"]


async def test_malformed_bodies_are_400_bad_request(client: GraphQLClient) -> None:
    for body in MALFORMED:  # a number, null, a string, 10,000-deep JSON, invalid UTF-8 (twice)
        response = await client.http.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, body[:40]
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_deep_json_variables_and_huge_json_numbers_are_400(client: GraphQLClient) -> None:
    deep = '{"query": "{ __typename }", "variables": {"x": ' + "[" * 10_000 + "]" * 10_000 + "}}"
    huge = '{"query": "{ __typename }", "variables": {"x": ' + "9" * 5000 + "}}"
    for body in (deep, huge):
        response = await client.http.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_wrong_parameter_types_are_400(client: GraphQLClient) -> None:
    for payload in (
        {"query": 1},
        {"query": "{ __typename }", "variables": "x"},
        {"query": "{ a }", "operationName": 0},
    ):
        response = await client.http.post("/graphql", json=payload)
        assert response.status_code == 400, payload
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_non_json_posts_are_refused(client: GraphQLClient) -> None:
    form = await client.http.post("/graphql", data={"query": "query cop { __typename }"})
    assert form.status_code == 415 and "data" not in form.json()
    bare = await client.http.post("/graphql", content=json.dumps({"query": "{ __typename }"}))
    assert bare.status_code == 415


async def test_bad_decimals_are_bad_user_input(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    for price in ["NaN", "sNaN", "Infinity", "-Infinity", "1e400", "1" * 30, "0.000000001", "abc"]:
        result = await client.execute(PLACE, {"a": account, "p": price})
        assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], result
        literal = PLACE.replace("$p: Decimal", "").replace("price: $p", f'price: "{price}"')
        result = await client.execute(literal, {"a": account})
        assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], result


async def test_text_holding_nul_is_bad_user_input_on_either_backend(client: GraphQLClient) -> None:
    # PostgreSQL's text cannot hold U+0000: found by fuzzing previewOrder with such an accountId.
    await client.login("gold001")
    preview = """query($i: PlaceOrderInput!) { previewOrder(input: $i) { fees { total } } }"""
    order = {"accountId": "acc\x00x", "symbol": "600000", "side": "BUY", "type": "LIMIT", "quantity": 100}
    literal = (
        'query { previewOrder(input: {accountId: "acc\\u0000x", symbol: "600000", side: BUY, type: LIMIT,'
        " quantity: 100}) { fees { total } } }"
    )
    for result in (await client.execute(preview, {"i": order}), await client.execute(literal)):
        assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], result
        assert "U+0000" in result["errors"][0]["message"]


async def test_a_naive_datetime_is_refused_with_a_clear_message(client: GraphQLClient) -> None:
    await client.login("gold001")
    account = await client.account_id()
    query = """query($a: ID!, $t: DateTime) { account(id: $a) { orders(filter: {until: $t}) {
      edges { node { id } } } } }"""
    result = await client.execute(query, {"a": account, "t": "2026-11-30T09:30:00"})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], result
    assert "time zone" in result["errors"][0]["message"]
    ok = await client.execute(query, {"a": account, "t": "2026-11-30T09:30:00+08:00"})
    assert "errors" not in ok, ok


async def test_a_5000_digit_int_literal_is_bad_user_input(client: GraphQLClient) -> None:
    await client.login("gold001")
    result = await client.execute("{ instruments(first: " + "9" * 5000 + ") { edges { cursor } } }")
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], result


async def test_a_token_without_a_session_id_is_refused(client: GraphQLClient) -> None:
    from brokerql.store.columns import utcnow

    token, _ = client.container.access_tokens.issue("cli_x", "client", now=utcnow())
    result = await client.execute("{ me { name } }", token=token)
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
