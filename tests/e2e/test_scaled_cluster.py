"""The scaled deployment as docs/operations.md runs it: `brokerql serve --workers 2` and `brokerql
exchange` on PostgreSQL + Redis (and nginx in front for TLS and WebSockets where nginx is installed).
While clients stream and trade, monitorStats shows both API processes, their connections and the
order rate; killing the exchange raises EXCHANGE_DOWN within seconds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.conftest import PG_UP, REDIS_UP, REDIS_URL
from tests.e2e.conftest import BROKERQL, ROOT, free_port, serve_env
from tests.e2e.test_nginx_config import CONFIG, self_signed
from tests.e2e.test_two_processes import pg_database  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not (PG_UP and REDIS_UP), reason="needs PostgreSQL and Redis")]

MONITOR = """{ monitorStats { processes { id role connections subscriptions }
  cluster { apiProcesses exchangeProcesses connections ordersPerSecond }
  alerts { rule severity clearedAt } } }"""
PLACE = """mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id } errors { code } } }"""


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen([*BROKERQL, *args], env=env, cwd=ROOT, stdout=handle, stderr=handle)


def wait_until(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            value = check()
            if value:
                return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.3)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def gql(url: str, query: str, variables: dict | None = None, token: str | None = None, **kw) -> dict:  # type: ignore[no-untyped-def]
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=10, **kw)
    assert response.status_code == 200, response.text
    return response.json()


@contextlib.asynccontextmanager
async def quote_stream(url: str, token: str, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[dict]:
    """One client streaming quotes over its own WebSocket; yields the first pushed result."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], ssl=ssl_context) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert '"connection_ack"' in await asyncio.wait_for(ws.recv(), 10)
        query = 'subscription { quotes(symbols: ["600000"]) { symbol last } }'
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        first = await asyncio.wait_for(ws.recv(), 10)
        for _ in range(3):  # later snapshots come from the group writer (subscriptions/quote_fanout.py) in every worker
            later = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert later["type"] == "next" and later["id"] == "1" and "errors" not in later["payload"], later
            assert later["payload"]["data"]["quotes"]["symbol"] == "600000"
        yield {"first": first}


def nginx_in_front(tmp_path: Path, api_port: int) -> tuple[subprocess.Popen[bytes], int] | None:
    """nginx with the repository's config (upstream = the API port), or None where nginx is missing."""
    binary = next((p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if Path(p).exists()), None)
    if binary is None:
        return None
    tls = tmp_path / "tls"
    tls.mkdir()
    self_signed(tls)
    http_port, https_port = free_port(), free_port()
    site = CONFIG.read_text().replace("/etc/brokerql/tls/", f"{tls}/")
    site = site.replace("server 127.0.0.1:8001 max_fails=3 fail_timeout=10s;", f"server 127.0.0.1:{api_port};")
    site = site.replace("    server 127.0.0.1:8002 max_fails=3 fail_timeout=10s;\n", "")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace(
        "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"
    )
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/nginx-error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    process = subprocess.Popen(
        [binary, "-c", str(main), "-p", str(tmp_path), "-e", str(tmp_path / "nginx-error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, https_port


def test_two_api_workers_and_the_exchange_under_load(tmp_path: Path, pg_database: str) -> None:  # noqa: F811
    port = free_port()
    env = serve_env(
        tmp_path,
        BROKERQL_PORT=str(port),
        BROKERQL_DATABASE_URL=pg_database,
        BROKERQL_REDIS_URL=REDIS_URL,
        BROKERQL_REDIS_PREFIX=f"bqe2e:{secrets.token_hex(4)}",
        BROKERQL_MONITOR_INTERVAL_SECONDS="0.5",
        BROKERQL_MONITOR_TTL_SECONDS="2",
        BROKERQL_EMBEDDED_EXCHANGE="0",
    )
    url = f"http://127.0.0.1:{port}/graphql"
    api = start(["serve", "--workers", "2"], env, tmp_path / "api.log")
    exchange = None
    nginx = None
    try:
        # Up, though degraded (503) until an exchange is live: only the process's own checks matter here.
        health_url = f"http://127.0.0.1:{port}/healthz"
        wait_until(lambda: httpx.get(health_url, timeout=1).json().get("database") == "ok", 90, "API up")
        exchange = start(["exchange"], env, tmp_path / "exchange.log")
        ops = gql(url, 'mutation { operatorLogin(input: {username: "ops", password: "Admin#2026"}) { accessToken } }')
        token = ops["data"]["operatorLogin"]["accessToken"]
        view = wait_until(
            lambda: (
                (v := gql(url, MONITOR, token=token)["data"]["monitorStats"])["cluster"]["apiProcesses"] == 2
                and v["cluster"]["exchangeProcesses"] == 1
                and v
            ),
            60,
            "two API workers and the exchange on the board",
        )
        assert sorted(p["role"] for p in view["processes"]) == ["api", "api", "exchange"]
        client = gql(url, 'mutation { login(input: {username: "gold001", password: "Demo#2026"}) { accessToken } }')
        client_token = client["data"]["login"]["accessToken"]
        me = gql(url, "{ me { accounts { id type } } }", token=client_token)
        account = next(a["id"] for a in me["data"]["me"]["accounts"] if a["type"] == "CASH")
        fronted = nginx_in_front(tmp_path, port)
        nginx = fronted[0] if fronted is not None else None  # stopped in `finally` whatever happens next

        async def load() -> dict:
            ws_url = url.replace("http", "ws")
            async with contextlib.AsyncExitStack() as stack:
                for _ in range(6):  # six clients streaming quotes, spread over the workers by the kernel
                    await stack.enter_async_context(quote_stream(ws_url, client_token))
                if fronted is not None:  # ... and one through nginx: TLS and the WebSocket upgrade
                    insecure = ssl.create_default_context()
                    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
                    tls_url = f"wss://127.0.0.1:{fronted[1]}/graphql"
                    await asyncio.sleep(0.5)  # nginx binding its ports
                    await stack.enter_async_context(quote_stream(tls_url, client_token, insecure))
                for _ in range(10):
                    order = {"accountId": account, "symbol": "600000", "side": "BUY", "type": "MARKET", "quantity": 100}
                    placed = await asyncio.to_thread(gql, url, PLACE, {"i": order}, client_token)
                    assert placed["data"]["placeOrder"]["errors"] == [], placed
                deadline = time.monotonic() + 30
                while True:
                    view = (await asyncio.to_thread(gql, url, MONITOR, None, token))["data"]["monitorStats"]
                    expected = 7 if fronted is not None else 6
                    if view["cluster"]["connections"] >= expected and view["cluster"]["ordersPerSecond"] > 0:
                        return view
                    assert time.monotonic() < deadline, view
                    await asyncio.sleep(0.3)

        view = asyncio.run(load())
        apis = [p for p in view["processes"] if p["role"] == "api"]
        assert len(apis) == 2 and sum(p["connections"] for p in apis) >= 6
        if fronted is not None:
            health = httpx.get(f"https://127.0.0.1:{fronted[1]}/healthz", verify=False, timeout=5)
            assert health.status_code == 200
        exchange.send_signal(signal.SIGKILL)
        exchange.wait(10)
        killed_at = time.monotonic()
        wait_until(
            lambda: any(
                a["rule"] == "EXCHANGE_DOWN" and a["clearedAt"] is None
                for a in gql(url, MONITOR, token=token)["data"]["monitorStats"]["alerts"]
            ),
            20,
            "EXCHANGE_DOWN after the exchange was killed",
        )
        print(f"EXCHANGE_DOWN raised {time.monotonic() - killed_at:.1f}s after the exchange was killed")
    finally:
        for process in (nginx, exchange, api):
            if process is not None:
                stop(process)
        if os.environ.get("BROKERQL_KEEP_LOGS"):
            print((tmp_path / "api.log").read_text()[-4000:])
