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
