"""Production in one step (`brokerql bootstrap`), and JSON log lines that say which request, operation and
caller they belong to."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from brokerql.cli_admin import bootstrap
from brokerql.container import Container
from brokerql.logs import configure_logging
from brokerql.store.migrate import upgrade_async
from tests.api.conftest import GraphQLClient, serve_in_process
from tests.api.test_security_production import production


async def test_bootstrap_creates_the_first_admin_once(backend: Any, tmp_path: Path) -> None:
    settings = production(backend.settings, database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    await upgrade_async(settings.database_url)
    password = await bootstrap(settings, "root", "First Admin")
    assert password is not None and len(password) >= 20
    assert await bootstrap(settings, "again", "Second") is None
    async with serve_in_process(settings, Container.build(settings)) as client:
        result = await client.execute(
            'mutation($p: String!) { operatorLogin(input: {username: "root", password: $p}) '
            "{ accessToken errors { code } operator { roles } } }",
            {"p": password},
        )
    assert result["data"]["operatorLogin"]["errors"] == []
    assert result["data"]["operatorLogin"]["operator"]["roles"] == ["ADMIN"]


@pytest.fixture
def json_logs(backend: Any) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(backend.settings.model_copy(update={"log_format": "json"}), stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


async def test_log_lines_carry_request_id_operation_and_principal(
    json_logs: io.StringIO, client: GraphQLClient
) -> None:
    await client.login("gold001")
    response = await client.http.post(
        "/graphql",
        json={"query": "query Broken { me { nosuchfield } }", "operationName": "Broken"},
        headers={"authorization": f"Bearer {client.token}", "x-request-id": "req-42"},
    )
    assert response.headers["x-request-id"] == "req-42"
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    refused = [line for line in lines if "refused" in line["event"]]
    assert refused, lines
    assert refused[0]["level"] == "info" and refused[0]["request_id"] == "req-42"
    assert refused[0]["operation"] == "Broken" and refused[0]["principal"].startswith("client:")


def test_uvicorns_per_request_lines_only_when_asked(backend: Any) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        for enabled in (False, True):
            stream = io.StringIO()
            settings = backend.settings.model_copy(update={"log_format": "json", "access_log": enabled})
            configure_logging(settings, stream=stream)
            server = logging.getLogger("uvicorn.error")
            server.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", "/graphql")
            server.info("connection open")  # the websockets library's, on the logger uvicorn gives it
            server.info("connection closed")
            server.info("Application startup complete.")
            logging.getLogger("uvicorn.access").info(
                '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", "/", "1.1", 200
            )
            events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
            assert "Application startup complete." in events
            assert len(events) == (5 if enabled else 1), events
    finally:  # the last pass (enabled) left uvicorn's loggers as they were before: no level, no filter
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
