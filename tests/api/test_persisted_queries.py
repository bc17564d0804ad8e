"""Persisted queries: Apollo's automatic ones by sha256, registered operations of a client build, and
the production option that runs registered operations only."""

from __future__ import annotations

import asyncio
import hashlib
import json
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from brokerql.cli_admin import cmd_persist_operations
from brokerql.container import Container
from tests.api.conftest import GraphQLClient, serve_in_process
from tests.api.test_security_production import production

QUERY = "query Tiers { tiers { code } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(digest: str = DIGEST) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_automatic_persisted_queries(client: GraphQLClient) -> None:
    unknown = await client.http.post("/graphql", json={"extensions": persisted()})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    wrong = await client.http.post("/graphql", json={"query": QUERY, "extensions": persisted("0" * 64)})
    assert wrong.status_code == 400
    first = await client.http.post("/graphql", json={"query": QUERY, "extensions": persisted()})
    assert first.json()["data"]["tiers"]
    again = await client.http.post("/graphql", json={"extensions": persisted()})
    assert again.json()["data"] == first.json()["data"]
    by_get = await client.http.get("/graphql", params={"extensions": json.dumps(persisted())})
    assert by_get.json()["data"] == first.json()["data"]


async def test_an_automatic_query_reads_no_database_once_known(client: GraphQLClient) -> None:
    """Apollo clients send the hash first on every request: once the query is in the automatic store, and
    while an unknown hash is remembered as unregistered, answering it reads no database."""
    engine = client.container.db.reader.sync_engine
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "persisted_operation" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        unknown = await client.http.post("/graphql", json={"extensions": persisted()})
        assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert len(reads) == 1  # the registered operations were asked once
        await client.http.post("/graphql", json={"query": QUERY, "extensions": persisted()})
        for _ in range(3):
            again = await client.http.post("/graphql", json={"extensions": persisted()})
            assert again.json()["data"]["tiers"]
        assert len(reads) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_production_runs_registered_operations_only(
    backend: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build = tmp_path / "web-build"
    build.mkdir()
    (build / "tiers.graphql").write_text(
        "query Tiers { tiers { ...T } }\nfragment T on Tier { code }\nquery Nothing { __typename }\n"
    )
    settings = production(backend.settings, persisted_queries_only=True)
    arguments = Namespace(directory=str(build), client="web-2.3.0")
    assert await asyncio.to_thread(cmd_persist_operations, settings, arguments) == 0
    printed = capsys.readouterr().out
    assert "2 operations registered for 'web-2.3.0'" in printed
    digest = next(line.split()[0] for line in printed.splitlines() if line.endswith("Tiers"))
    async with serve_in_process(settings, Container.build(settings)) as prod:
        registered = await prod.http.get("/graphql", params={"extensions": json.dumps(persisted(digest))})
        assert registered.json()["data"]["tiers"], registered.text
        ad_hoc = await prod.http.post("/graphql", json={"query": "{ tiers { code name } }"})
        assert ad_hoc.json()["errors"][0]["extensions"]["reason"] == "OPERATION_NOT_REGISTERED"
        text_get = await prod.http.get("/graphql", params={"query": "{ tiers { code } }"})
        assert text_get.status_code == 405


def tiers_query(n: int) -> str:
    return f"query Tiers{n} {{ tiers {{ code }} }}"


async def register(http: Any, query: str) -> Any:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return await http.post("/graphql", json={"query": query, "extensions": persisted(digest)})


async def known(http: Any, query: str) -> bool:
    digest = hashlib.sha256(query.encode()).hexdigest()
    answer = (await http.post("/graphql", json={"extensions": persisted(digest)})).json()
    return "data" in answer and answer["data"] is not None


async def test_only_operations_that_ran_are_kept(client: GraphQLClient) -> None:
    for invalid in ("{ tiers { nosuchfield } }", "{ tiers { code }", "{ tiers { " + "code " * 10 + "} }"):
        answer = await register(client.http, invalid)
        assert answer.json()["errors"], answer.text
        assert not await known(client.http, invalid)  # never stored: not a way to park arbitrary text


async def test_the_store_keeps_the_most_recent_within_its_entries_and_bytes(backend: Any) -> None:
    size = len(tiers_query(1).encode())
    for bounds, kept in (({"apq_max_entries": 3}, 3), ({"apq_max_bytes": 2 * size}, 2)):
        settings = backend.settings.model_copy(update=bounds)
        async with serve_in_process(settings, Container.build(settings)) as client:
            for n in range(1, 6):
                assert (await register(client.http, tiers_query(n))).json()["data"]["tiers"]
            found = [n for n in range(1, 6) if await known(client.http, tiers_query(n))]
        assert found == list(range(6 - kept, 6)), (bounds, found)  # least recently used evicted first


async def test_an_address_registers_a_bounded_number_an_hour(backend: Any) -> None:
    settings = backend.settings.model_copy(update={"apq_registrations_per_hour": 2, "rate_limit_scale": 1})
    async with serve_in_process(settings, Container.build(settings)) as client:
        for n in (1, 2):
            assert (await register(client.http, tiers_query(n))).status_code == 200
        assert (await register(client.http, tiers_query(1))).status_code == 200  # known: not a new one
        refused = await register(client.http, tiers_query(3))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        error = refused.json()["errors"][0]["extensions"]
        assert error["code"] == "RATE_LIMITED" and error["reason"] == "PERSISTED_QUERY_QUOTA"
        assert error["limit"] == 2 and error["retryAfter"] >= 1
        assert not await known(client.http, tiers_query(3))
        assert await known(client.http, tiers_query(2))  # what was registered still runs by its hash
