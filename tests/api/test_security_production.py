"""graphql-cop's 12 checks, written as tests against BROKERQL_ENV=production: none may flag.

Each test sends what the tool sends and applies its verdict rule (what would make it report the issue),
plus the field-duplication check the tool keeps disabled. Then what production opens to operators only.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from brokerql.container import Container
from tests.api.conftest import GraphQLClient, serve_in_process

ORIGIN = "https://terminal.broker.example"
METRICS_TOKEN = "metrics-token-0123456789"


def production(settings: Any, **extra: Any) -> Any:
    values = {
        "env": "production",
        "demo": False,
        "allowed_origins": [ORIGIN],
        "metrics_token": METRICS_TOKEN,
        **extra,
    }
    return type(settings).model_validate({**settings.model_dump(), **values})


@contextlib.asynccontextmanager
async def production_client(backend: Any, **extra: Any) -> AsyncIterator[GraphQLClient]:
    settings = production(backend.settings, **extra)
    async with serve_in_process(settings, Container.build(settings)) as client:
        yield client


@pytest.fixture
async def prod(backend: Any) -> AsyncIterator[GraphQLClient]:
    async with production_client(backend) as client:
        yield client


def cop_query(client: GraphQLClient, query: str, **headers: str) -> Any:
    return client.http.post("/graphql", json={"query": query, "operationName": "cop"}, headers=headers)


def data_of(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("data") if isinstance(body, dict) else None


async def test_field_suggestions_are_off(prod: GraphQLClient) -> None:
    for query in ("query cop { __schema { directive } }", "query cop { quot }"):
        errors = (await cop_query(prod, query)).json()["errors"]
        assert "Did you mean" not in errors[0]["message"], errors


async def test_introspection_is_closed_to_anonymous_callers(prod: GraphQLClient) -> None:
    response = await cop_query(prod, "query cop { __schema { types { name fields { name } } } }")
    assert not (data_of(response) or {}).get("__schema")
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_graphiql_is_not_served_to_anonymous_callers(prod: GraphQLClient) -> None:
    response = await prod.http.get("/graphql", headers={"accept": "text/html"})
    heuristics = ("graphiql.min.css", "GraphQL Playground", "GraphiQL", "graphql-playground")
    assert not any(word in response.text for word in heuristics)


async def test_queries_over_get_are_refused(prod: GraphQLClient) -> None:
    response = await prod.http.get("/graphql", params={"query": "query cop {__typename}"})
    assert response.status_code == 405 and not data_of(response)


async def test_alias_overloading_is_refused(prod: GraphQLClient) -> None:
    aliases = "".join(f"alias{i}:__typename \n" for i in range(101))
    assert not data_of(await cop_query(prod, "query cop { " + aliases + " }"))


async def test_array_batching_is_refused(prod: GraphQLClient) -> None:
    response = await prod.http.post("/graphql", json=[{"query": "query cop { __typename }"}] * 10)
    body = response.json()
    assert response.status_code == 400 and not (isinstance(body, list) and len(body) >= 10)


async def test_no_tracing_in_responses(prod: GraphQLClient) -> None:
    body = (await cop_query(prod, "query cop { __typename }")).json()
    assert "tracing" not in str(body).lower()


async def test_directive_overloading_is_refused_once(prod: GraphQLClient) -> None:
    body = (await cop_query(prod, "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }")).json()
    assert len(body["errors"]) != 10 and body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_circular_introspection_is_refused(prod: GraphQLClient) -> None:
    query = "query cop { __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }"  # noqa: E501
    assert not (data_of(await cop_query(prod, query)) or {}).get("__schema")


async def test_mutations_over_get_are_refused(prod: GraphQLClient) -> None:
    response = await prod.http.get("/graphql", params={"query": "mutation cop {__typename}"})
    assert response.status_code >= 400 and not data_of(response)


async def test_url_encoded_posts_are_refused(prod: GraphQLClient) -> None:
    response = await prod.http.post("/graphql", data={"query": "query cop { __typename }"})
    assert response.status_code == 415 and not data_of(response)


async def test_unhandled_errors_show_no_exception(prod: GraphQLClient) -> None:
    body = (await cop_query(prod, "qwerty cop { abc }")).json()
    assert "exception" not in str(body).lower() and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_field_duplication_is_refused(prod: GraphQLClient) -> None:
    assert not data_of(await cop_query(prod, "query cop { " + "__typename \n" * 500 + "} "))


# -- what production keeps for operators -----------------------------------------------------------------
async def operator_login(client: GraphQLClient) -> httpx.Response:
    return await client.http.post(
        "/graphql",
        json={
            "query": 'mutation { operatorLogin(input: {username: "admin", password: "Admin#2026"}) { accessToken } }'
        },
    )


async def test_operators_get_introspection_and_graphiql(prod: GraphQLClient) -> None:
    login = await operator_login(prod)
    token = login.json()["data"]["operatorLogin"]["accessToken"]
    cookie = login.headers["set-cookie"]
    assert "brokerql_operator=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "strict" in cookie
    query = {"query": "{ __schema { queryType { name } } }"}
    response = await prod.http.post("/graphql", json=query, headers={"authorization": f"Bearer {token}"})
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    page = await prod.http.get("/graphql", headers={"accept": "text/html", "cookie": f"brokerql_operator={token}"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_metrics_need_the_token(prod: GraphQLClient) -> None:
    assert (await prod.http.get("/metrics")).status_code == 401
    wrong = await prod.http.get("/metrics", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = await prod.http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200 and "brokerql_websockets_open" in right.text
