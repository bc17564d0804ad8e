"""The fill push survives a Redis restart and an API process crash (real PostgreSQL + Redis, no mocks).

A private redis-server on a free port is killed and restarted mid-stream (the shared one is never
touched); `brokerql serve` runs as a subprocess and is killed with SIGKILL. Clients resume with
afterSeq and must see every seq exactly once, in order, matching the account's stored history.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis
import websockets

from tests.api.conftest import serve_in_process
from tests.api.trading_helpers import CANCEL, EVENTS, PLACE, events_until, order_input
from tests.conftest import PG_ADMIN_DSN, PG_UP, REDIS_UP, _pg_url, base_settings
from tests.e2e.conftest import Served, free_port, serve_env

pytestmark = pytest.mark.skipif(not (PG_UP and REDIS_UP), reason="needs PostgreSQL and Redis")


class PrivateRedis:
    """A redis-server of our own (no persistence), so killing it harms nobody else."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_port(), tmp_path / "redis.log")
    server.start()
    yield server
    server.kill()


@pytest.fixture
async def pg_database(pg_template: str | None) -> AsyncIterator[tuple[str, str]]:
    """(seeded database from the session template, an empty one) on the test PostgreSQL."""
    names = [f"brokerql_r_{secrets.token_hex(4)}", f"brokerql_r_{secrets.token_hex(4)}"]
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f"CREATE DATABASE {names[0]} TEMPLATE {pg_template}")
    await admin.execute(f"CREATE DATABASE {names[1]}")
    try:
        yield names[0], names[1]
    finally:
        for name in names:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def _seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


async def test_fill_push_survives_a_redis_restart(private_redis: PrivateRedis, pg_database: tuple[str, str]) -> None:
    settings = base_settings(
        database_url=_pg_url(pg_database[0]),
        redis_url=private_redis.url,
        redis_prefix="resilience",
        cancel_confirm_seconds=0.5,
    )
    from brokerql.container import Container

    container = Container.build(settings)
    async with serve_in_process(settings, container) as client:
        await client.login("gold001")
        account = await client.account_id()
        async with client.subscribe(EVENTS, {"a": account, "s": 0}) as stream:
            resting = await client.execute(PLACE, order_input(account, price="12.30", quantity=200))
            order_id = resting["data"]["placeOrder"]["order"]["id"]
            seen = await events_until(stream, lambda es: len(es) == 1)

            private_redis.kill()
            # With the bus down an order cannot be priced: a coded rejection, not a 500 ...
            refused = await client.execute(PLACE, order_input(account, type="MARKET", quantity=100))
            assert refused["data"]["placeOrder"]["errors"][0]["code"] == "MARKET_DATA_UNAVAILABLE"
            # ... while a cancel still commits (CANCEL_REQUESTED waits in the outbox for the bus). The
            # embedded venue, cut off from its command stream, reconciles from the database and may
            # confirm it before the answer (CANCELED) or not (PENDING_CANCEL): both are right.
            canceled = await client.execute(CANCEL, {"i": {"accountId": account, "scope": "ALL"}})
            assert canceled["data"]["cancelOrders"]["canceled"][0]["status"] in ("PENDING_CANCEL", "CANCELED")

            private_redis.start()
            seen += await events_until(stream, lambda es: es[-1]["order"]["status"] == "CANCELED")
            bought = await client.execute(PLACE, order_input(account, type="MARKET", quantity=300))
            assert bought["data"]["placeOrder"]["errors"] == []
            seen += await events_until(stream, lambda es: es[-1]["order"]["status"] in ("FILLED", "CANCELED"))
        stored = await container.trading_queries.events_after(account, 0)
        assert _seqs(seen) == [e.seq for e in stored] == list(range(1, len(stored) + 1))
        assert [e["kind"] for e in seen[:3]] == ["ACCEPTED", "CANCEL_REQUESTED", "CANCELED"]
        assert seen[2]["order"]["id"] == order_id and "FILL" in [e["kind"] for e in seen]
        async with client.subscribe(EVENTS, {"a": account, "s": 1}) as stream:
            resumed = await events_until(stream, lambda es: len(es) == len(stored) - 1)
        assert _seqs(resumed) == list(range(2, len(stored) + 1))


class WsClient:
    """graphql-transport-ws over a real socket to a served process."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, port: int, token: str, after_seq: int, account: str) -> AsyncIterator[WsClient]:
        url = f"ws://127.0.0.1:{port}/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
            variables = {"a": account, "s": after_seq}
            await socket.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS, "variables": variables}})
            )
            yield cls(socket)

    async def events(self, until: Any) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while not events or not until(events):
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            assert message["type"] == "next", message
            item = message["payload"]["data"]["orderEvents"]
            if item["__typename"] == "OrderEvent":
                events.append(item)
        return events


async def test_clients_resume_after_the_api_process_is_killed(
    tmp_path: Path, private_redis: PrivateRedis, pg_database: tuple[str, str]
) -> None:
    env = serve_env(
        tmp_path,
        BROKERQL_DATABASE_URL=_pg_url(pg_database[1]),
        BROKERQL_REDIS_URL=private_redis.url,
        BROKERQL_HEARTBEAT_SECONDS="1",
    )
    served = Served(env, tmp_path / "serve.log")
    await asyncio.to_thread(served.start)
    try:
        token = await asyncio.to_thread(served.login, "gold001")
        me = await asyncio.to_thread(served.gql, "{ me { accounts { id type } } }", None, token)
        account = next(a["id"] for a in me["data"]["me"]["accounts"] if a["type"] == "CASH")

        def place(**fields: Any) -> dict[str, Any]:
            return served.gql(PLACE, order_input(account, **fields), token)["data"]["placeOrder"]

        async with WsClient.open(served.port, token, 0, account) as ws:
            assert (await asyncio.to_thread(place, price="12.30", clientOrderId="before"))["errors"] == []
            seen = await ws.events(lambda es: len(es) == 1)
            # Acknowledged just before the crash: the fills may or may not be booked when it dies.
            placed = await asyncio.to_thread(place, type="MARKET", quantity=500, clientOrderId="at-crash")
            assert placed["errors"] == []
            served.kill()
            with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
                seen += await ws.events(lambda es: False)  # whatever got out before the socket died
        await asyncio.to_thread(served.start)
        async with WsClient.open(served.port, token, seen[-1]["seq"], account) as ws:
            more = await ws.events(lambda es: any(e["order"]["status"] in ("FILLED", "CANCELED") for e in es))
            # Nothing lost and nothing twice across the crash.
            seqs = _seqs(seen + more)
            assert seqs == list(range(1, len(seqs) + 1))
        retry = await asyncio.to_thread(place, type="MARKET", quantity=500, clientOrderId="at-crash")
        assert retry["order"]["id"] == placed["order"]["id"]  # the acknowledged order survived the crash
        final = await asyncio.to_thread(
            served.gql, "query($a: ID!) { syncState(accountId: $a) { lastSeq } }", {"a": account}, token
        )
        assert final["data"]["syncState"]["lastSeq"] >= seqs[-1]
        async with WsClient.open(served.port, token, 0, account) as ws:
            everything = await ws.events(lambda es: len(es) == seqs[-1])
        assert [(e["seq"], e["kind"]) for e in everything] == [(e["seq"], e["kind"]) for e in seen + more]
    finally:
        served.stop()
