"""The GraphQL-over-HTTP spec's own audit (graphql-http's `auditServer`, run by Node) against a served app:
0 errors and 0 warnings, for `application/json` and `application/graphql-response+json` alike.

The npm package is installed once into .cache/ under the repository; without Node, npm or the registry
the test is skipped and says why.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from brokerql.api.app import create_app
from brokerql.container import Container

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "graphql-http"
SCRIPT = ROOT / "tests" / "audit" / "graphql_http_audit.mjs"
PACKAGES = ["graphql-http@1.23.1", "graphql@16.11.0"]


def node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("graphql-http audit skipped: node and npm are not installed")
    modules = CACHE / "node_modules"
    if not (modules / "graphql-http" / "package.json").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(CACHE), *PACKAGES],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"graphql-http audit skipped: npm could not install it ({done.stderr.strip()[-300:]})")
    return modules


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_graphql_over_http_audit_passes_without_warnings(backend: Any) -> None:
    modules = node_modules()
    settings = backend.settings
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, Container.build(settings)), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:  # noqa: ASYNC110 - a flag set by the server thread
            await asyncio.sleep(0.05)
        process = await asyncio.create_subprocess_exec(
            "node", str(SCRIPT), str(modules), f"http://127.0.0.1:{port}/graphql", stdout=subprocess.PIPE
        )
        output, _ = await asyncio.wait_for(process.communicate(), 120)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
    results = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    assert len(results) > 50, output
    failed = [f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"]
    print(f"graphql-http audit: {len(results) - len(failed)} ok, {len(failed)} not ok")
    assert failed == []
