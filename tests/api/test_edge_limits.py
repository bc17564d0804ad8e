"""Operation limits (E1): each abusive document is refused before it runs, by the limit meant for it,
with QUERY_TOO_COMPLEX naming the rule, the limit and the figure."""

from __future__ import annotations

from brokerql.api.app import create_app
from brokerql.container import Container
from tests.api.conftest import GraphQLClient, serve_in_process


async def post(client: GraphQLClient, query: str, variables: dict | None = None) -> tuple[int, dict]:
    headers = {"authorization": f"Bearer {client.token}"} if client.token else {}
    response = await client.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    return response.status_code, response.json()


def refusal(body: dict) -> dict:
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]["extensions"]


async def test_duplicate_fields_are_refused_by_the_duplicate_field_limit(client: GraphQLClient) -> None:
    status, body = await post(client, "query cop { " + "__typename \n" * 500 + "}")
    assert status == 200
    assert refusal(body) == {"code": "QUERY_TOO_COMPLEX", "rule": "duplicateFields", "limit": 5, "value": 499}


async def test_a_fragment_bomb_is_refused_by_the_fragment_spread_limit(client: GraphQLClient) -> None:
    # Each fragment spreads the next one twice: 2^40 fields if expanded, 80 spreads written down.
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)]
    fragments.append("fragment F40 on Query { __typename }")
    status, body = await post(client, "{ ...F0 }\n" + "\n".join(fragments))
    assert status == 200
    assert refusal(body) == {"code": "QUERY_TOO_COMPLEX", "rule": "fragmentSpreads", "limit": 50, "value": 81}


async def test_fields_repeated_across_fragments_are_refused_before_validation_compares_them(
    client: GraphQLClient,
) -> None:
    # No field is repeated in the text, but validation would compare the forty `tiers` fields pairwise
    # (and their sub-selections): ~200 ms of CPU for 3.6 KiB. Refused by the pairs it would compare.
    fragments = " ".join(f"fragment F{i} on Query {{ tiers {{ code name rank }} }}" for i in range(40))
    status, body = await post(client, "query Many { " + " ".join(f"...F{i}" for i in range(40)) + " } " + fragments)
    assert status == 200
    assert refusal(body) == {"code": "QUERY_TOO_COMPLEX", "rule": "overlappingFields", "limit": 200, "value": ">200"}
    # The same fields from a few fragments, as client builds write them, run.
    few = " ".join(f"fragment F{i} on Query {{ tiers {{ code name }} }}" for i in range(4))
    status, body = await post(client, "query Few { ...F0 ...F1 ...F2 ...F3 } " + few)
    assert status == 200 and body["data"]["tiers"], body


async def test_fields_visited_with_fragments_expanded_are_bounded(backend) -> None:  # type: ignore[no-untyped-def]
    # Thirty aliases of one field, each spreading a fragment: expanded, thirty copies of its fields.
    settings = backend.settings.model_copy(update={"query_max_expanded_fields": 100})
    fields = " ".join(f"t{i}: tiers {{ ...T }}" for i in range(30))
    query = f"query Wide {{ {fields} }} fragment T on Tier {{ code name rank entitlements }}"
    async with serve_in_process(settings, Container.build(settings)) as client:
        status, body = await post(client, query)
    assert status == 200
    assert refusal(body) == {"code": "QUERY_TOO_COMPLEX", "rule": "expandedFields", "limit": 100, "value": ">100"}


async def test_a_large_document_is_refused_by_the_body_limit(client: GraphQLClient) -> None:
    spreads = " ".join("...F" for _ in range(20_000))
    status, body = await post(client, "{ " + spreads + " } fragment F on Query { __typename }")
    assert status == 413
    assert refusal(body) == {"code": "QUERY_TOO_COMPLEX", "rule": "bodyBytes", "limit": 65536}


async def test_a_document_of_too_many_tokens_is_refused_by_the_token_limit(client: GraphQLClient) -> None:
    status, body = await post(client, "{ " + " ".join(f"f{i}" for i in range(6000)) + " }")
    assert status == 200
    assert refusal(body) == {"code": "QUERY_TOO_COMPLEX", "rule": "tokens", "limit": 2000, "value": ">2000"}


async def test_too_deep_too_many_aliases_or_directives(client: GraphQLClient) -> None:
    deep = "{ me { accounts { positions { symbol } } } }"
    aliases = "query cop { " + "".join(f"alias{i}:__typename \n" for i in range(101)) + " }"
    assert refusal((await post(client, aliases))[1]) == {
        "code": "QUERY_TOO_COMPLEX",
        "rule": "aliases",
        "limit": 30,
        "value": 101,
    }
    repeated = "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }"
    assert refusal((await post(client, repeated))[1]) == {
        "code": "QUERY_TOO_COMPLEX",
        "rule": "repeatedDirectives",
        "limit": 0,
        "value": 9,
    }
    many = "query($a: Boolean!) { " + " ".join(f"f{i}: __typename @include(if: $a)" for i in range(11)) + " }"
    assert refusal((await post(client, many, {"a": True}))[1])["rule"] == "directives"
    settings = client.container.settings.model_copy(update={"query_max_depth": 2})
    async with serve_in_process(settings, Container.build(settings)) as shallow:
        assert refusal((await post(shallow, deep))[1]) == {
            "code": "QUERY_TOO_COMPLEX",
            "rule": "depth",
            "limit": 2,
            "value": 3,
        }


async def test_cost_is_reported_and_capped(client: GraphQLClient) -> None:
    await client.login("gold001")
    query = "query($n: Int) { instruments(first: $n) { edges { node { symbol } } } }"
    status, body = await post(client, query, {"n": 10})
    assert status == 200 and "errors" not in body, body
    cost = body["extensions"]["cost"]
    # instruments: 10 x (1 + edges (1 + node 1)) = 10 x 3
    assert cost["requestedQueryCost"] == 30 and cost["maximumQueryCost"] == 5000
    assert cost["throttleStatus"]["maximumAvailable"] > 0
    settings = client.container.settings.model_copy(update={"query_max_cost": 20})
    async with serve_in_process(settings, Container.build(settings)) as capped:
        await capped.login("gold001")
        assert refusal((await post(capped, query, {"n": 10}))[1]) == {
            "code": "QUERY_TOO_COMPLEX",
            "rule": "cost",
            "limit": 20,
            "value": 30,
        }


async def test_a_body_over_the_limit_is_drained_up_to_a_bound_then_the_connection_closed(client: GraphQLClient) -> None:
    async def chunks(count: int):  # type: ignore[no-untyped-def]  # chunked: no Content-Length
        for _ in range(count):
            yield b" " * 65536

    headers = {"content-type": "application/json"}
    # A little over the limit: the rest is read and dropped, the connection stays usable.
    response = await client.http.post("/graphql", content=chunks(4), headers=headers)
    assert response.status_code == 413 and "connection" not in response.headers
    assert refusal(response.json())["rule"] == "bodyBytes"
    # A body that goes on past the bound (1 MiB), or declares a length past it: answered, then closed.
    response = await client.http.post("/graphql", content=chunks(40), headers=headers)
    assert response.status_code == 413 and response.headers["connection"] == "close"
    response = await client.http.post("/graphql", content=b" " * (2 * 1024 * 1024), headers=headers)
    assert response.status_code == 413 and response.headers["connection"] == "close"
    response = await client.http.post("/graphql", content=b" " * (512 * 1024), headers=headers)
    assert response.status_code == 413 and "connection" not in response.headers


async def test_a_chunked_body_read_whole_in_one_message_is_not_read_again(backend) -> None:  # type: ignore[no-untyped-def]
    # The server read a chunked body over the limit in full before the app asked for it: one message,
    # `more_body` False. The 413 must not wait for more (the client waits for the answer: a deadlock).
    app = create_app(backend.settings, Container.build(backend.settings))
    messages = [{"type": "http.request", "body": b" " * 70_000, "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        assert messages, "read past the end of the body"
        return messages.pop()

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    assert sent[0]["status"] == 413 and (b"connection", b"close") not in sent[0]["headers"]
