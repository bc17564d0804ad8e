"""`brokerql serve --workers N`: every worker process writes the same structured log lines as a single
process does. uvicorn spawns the workers as fresh interpreters, so the parent's logging set-up does not
reach them; each one sets up its own (brokerql.api.app.create_worker_app)."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_UP, REDIS_UP, REDIS_URL
from tests.e2e.conftest import free_port, serve_env
from tests.e2e.test_scaled_cluster import start, stop, wait_until
from tests.e2e.test_two_processes import pg_database  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not (PG_UP and REDIS_UP), reason="needs PostgreSQL and Redis")]


def test_every_worker_writes_json_lines_with_the_request_id(tmp_path: Path, pg_database: str) -> None:  # noqa: F811
    port = free_port()
    env = serve_env(
        tmp_path,
        BROKERQL_PORT=str(port),
        BROKERQL_DATABASE_URL=pg_database,
        BROKERQL_REDIS_URL=REDIS_URL,
        BROKERQL_REDIS_PREFIX=f"bqe2e:{secrets.token_hex(4)}",
        BROKERQL_EMBEDDED_EXCHANGE="0",  # --workers needs it; no exchange runs, so /healthz is degraded
        BROKERQL_LOG_FORMAT="json",
    )
    log = tmp_path / "api.log"

    def started() -> set[int]:
        workers = set()
        for line in log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):  # a line still being written
                if line.startswith("{") and (entry := json.loads(line))["event"] == "Application startup complete.":
                    workers.add(entry["process"])
        return workers

    api = start(["serve", "--workers", "2"], env, log)
    try:
        health = f"http://127.0.0.1:{port}/healthz"
        wait_until(lambda: httpx.get(health, timeout=1).json().get("database") == "ok", 90, "API up")
        # One worker answers as soon as it is up; on a loaded machine the other may still be starting.
        wait_until(lambda: len(started()) == 2, 90, "both workers up")  # each with its own JSON lines
        sent = [f"worker-log-{n}" for n in range(12)]  # on fresh connections: the kernel spreads them
        for request_id in sent:
            response = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "query Broken { nosuchfield }", "operationName": "Broken"},
                headers={"x-request-id": request_id},
                timeout=10,
            )
            assert response.headers["x-request-id"] == request_id

        def refusals() -> dict[str, dict]:
            found = {}
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    entry = json.loads(line)
                    if entry.get("request_id") in sent and "refused" in entry.get("event", ""):
                        found[entry["request_id"]] = entry
            return found if len(found) == len(sent) else {}

        deadline = time.monotonic() + 10  # the lines are written as the requests are answered
        while not (found := refusals()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert found, log.read_text()[-3000:]
        assert all(e["level"] == "info" and e["operation"] == "Broken" for e in found.values())
        assert all(e["principal"].startswith("anonymous@") for e in found.values())
        loggers = {json.loads(line).get("logger") for line in log.read_text().splitlines() if line.startswith("{")}
        assert "uvicorn.access" not in loggers  # uvicorn's line per request only with BROKERQL_ACCESS_LOG=1
        print(f"workers {sorted(started())}; refusals logged by {sorted({e['process'] for e in found.values()})}")
    finally:
        stop(api)


@pytest.mark.parametrize("access_log", ["0", "1"])
def test_uvicorns_access_lines_follow_the_setting_in_one_process(tmp_path: Path, access_log: str) -> None:
    # In one process the app is built before uvicorn sets its loggers' level, so the switch must reach
    # uvicorn itself (its `access_log`), not only the logging set-up.
    port = free_port()
    env = serve_env(tmp_path, BROKERQL_PORT=str(port), BROKERQL_LOG_FORMAT="json", BROKERQL_ACCESS_LOG=access_log)
    log = tmp_path / "api.log"
    api = start(["serve"], env, log)
    try:
        health = f"http://127.0.0.1:{port}/healthz"
        wait_until(lambda: httpx.get(health, timeout=1).json().get("database") == "ok", 90, "API up")
        httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=10)
        time.sleep(0.5)  # the line is written as the request is answered
        loggers = {json.loads(line).get("logger") for line in log.read_text().splitlines() if line.startswith("{")}
        assert ("uvicorn.access" in loggers) is (access_log == "1"), log.read_text()[-2000:]
    finally:
        stop(api)
