"""Exactly one exchange, on PostgreSQL + Redis, with real processes killed with SIGKILL.

- Two `brokerql serve` with default settings (each would embed an exchange) plus a `brokerql exchange`:
  one holds the lease, the others wait as hot standbys. 200 marketable orders each fill exactly once,
  `quotes` follows one book, and when the active exchange is killed a standby takes over and every order
  accepted meanwhile fills exactly once.
- The exchange killed between a match and its booking (a lone fill's journal entry and booking, one
  transaction, held up by a row lock the test takes): neither is kept, the restarted exchange fills the
  order once, and the resting order is back on the book.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from httpx_ws import aconnect_ws

from tests.conftest import PG_ADMIN_DSN, PG_UP, REDIS_UP, REDIS_URL
from tests.e2e.conftest import BROKERQL, ROOT, Served, serve_env
from tests.e2e.test_served import PLACE, account_of

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (PG_UP and REDIS_UP), reason="needs PostgreSQL and Redis (not reachable here)"),
]

QUOTES = 'subscription { quotes(symbols: ["600000"]) { symbol volume asOf stale } }'


class ExchangeProcess:
    """`brokerql exchange` as a subprocess; `kill()` is SIGKILL."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ExchangeProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([*BROKERQL, "exchange"], env=self.env, cwd=ROOT, stdout=log, stderr=log)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until(predicate: Any, timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached")


def health(served: Served) -> dict[str, Any]:
    return httpx.get(f"http://127.0.0.1:{served.port}/healthz", timeout=5).json()


def sql(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(dsn)
        try:
            return await connection.fetch(query, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, Any]]:
    name = f"brokerql_one_{secrets.token_hex(4)}"
    admin_dsn = PG_ADMIN_DSN
    sql(admin_dsn, f"CREATE DATABASE {name}")
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    env = serve_env(
        tmp_path,
        BROKERQL_DATABASE_URL=dsn.replace("postgresql://", "postgresql+asyncpg://"),
        BROKERQL_REDIS_URL=REDIS_URL,
        BROKERQL_REDIS_PREFIX=f"bqone:{secrets.token_hex(4)}",
    )
    started: list[Any] = []
    yield {"env": env, "dsn": dsn, "tmp": tmp_path, "started": started}
    for process in started:
        process.stop()
    sql(admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_exchange(cluster: dict[str, Any], name: str) -> ExchangeProcess:
    exchange = ExchangeProcess(dict(cluster["env"]), cluster["tmp"] / f"{name}.log").start()
    cluster["started"].append(exchange)
    wait_until(lambda: "venue lease acquired" in exchange.log_path.read_text(), what="the exchange holding the lease")
    return exchange


def start_serve(cluster: dict[str, Any], name: str, **extra: str) -> Served:
    env = {**cluster["env"], **extra}
    env["BROKERQL_PORT"] = serve_env(cluster["tmp"])["BROKERQL_PORT"]
    served = Served(env, cluster["tmp"] / f"{name}.log")
    cluster["started"].append(served)
    return served.start()


def fills_by_order(dsn: str, order_ids: list[str]) -> dict[str, list[asyncpg.Record]]:
    rows = sql(dsn, "SELECT order_id, exec_id, quantity FROM fill WHERE order_id = ANY($1::text[])", order_ids)
    result: dict[str, list[asyncpg.Record]] = {o: [] for o in order_ids}
    for row in rows:
        result[row["order_id"]].append(row)
    return result


def assert_each_filled_once(dsn: str, order_ids: list[str], *, journal_pruned: bool = False) -> None:
    """Every order FILLED; its fills add up to its quantity, one fill row per journalled TRADE report
    (a new lease holder prunes the reports of finished orders: then only the fills are compared)."""
    orders = {r["id"]: r for r in sql(dsn, "SELECT * FROM orders WHERE id = ANY($1::text[])", order_ids)}
    fills = fills_by_order(dsn, order_ids)
    journal = sql(
        dsn,
        "SELECT order_id, exec_id FROM execution_report WHERE exec_type = 'TRADE' AND order_id = ANY($1)",
        order_ids,
    )
    journalled: dict[str, set[str]] = {o: set() for o in order_ids}
    for row in journal:
        journalled[row["order_id"]].add(row["exec_id"])
    for order_id in order_ids:
        order = orders[order_id]
        assert order["status"] == "FILLED", dict(order)
        assert sum(f["quantity"] for f in fills[order_id]) == order["cum_qty"] == order["quantity"]
        exec_ids = [f["exec_id"] for f in fills[order_id]]
        assert len(exec_ids) == len(set(exec_ids))
        if not journal_pruned:
            assert set(exec_ids) == journalled[order_id]
        assert exec_ids and all(e.startswith(f"{order_id}:") for e in exec_ids)  # stable ids, no run id


async def watch_volumes(url: str, token: str, stop: asyncio.Event) -> list[int]:
    volumes: list[int] = []
    async with (
        httpx.AsyncClient() as http,
        aconnect_ws(url.replace("http", "ws"), http, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": QUOTES}})
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.receive_json(), 0.5)
            except TimeoutError:
                continue
            volumes.append(message["payload"]["data"]["quotes"]["volume"])
    return volumes


def place(served: Served, token: str, account: str, **fields: Any) -> str:
    order = {"accountId": account, "symbol": "600000", "side": "BUY", "quantity": 100, **fields}
    result = served.gql(PLACE, {"i": order}, token)["data"]["placeOrder"]
    assert result["errors"] == [], result
    return result["order"]["id"]


def test_one_exchange_among_three_candidates_and_a_takeover(cluster: dict[str, Any]) -> None:
    exchange = start_exchange(cluster, "exchange")
    first = start_serve(cluster, "first")
    second = start_serve(cluster, "second")
    for served in (first, second):
        body = health(served)
        assert body["status"] == "ok" and body["exchange"]["role"] == "standby" and body["exchange"]["live"]
        assert "hot standby" in served.log_path.read_text()
    token = first.login("gold001")
    account = account_of(first, token)

    async def orders_while_watching() -> tuple[list[str], list[int]]:
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_volumes(first.url, token, stop))
        await asyncio.sleep(1)
        placed = []
        for n in range(200):
            served = first if n % 2 == 0 else second
            placed.append(await asyncio.to_thread(place, served, token, account, type="MARKET"))
        await asyncio.sleep(2)
        stop.set()
        return placed, await watcher

    placed, volumes = asyncio.run(orders_while_watching())
    wait_until(lambda: all(f for f in fills_by_order(cluster["dsn"], placed).values()), what="200 orders filled")
    time.sleep(1)  # any second (wrong) booking would show now
    assert_each_filled_once(cluster["dsn"], placed)
    assert len(volumes) > 5 and volumes == sorted(volumes), "quotes follow one book: volumes never go back"

    exchange.kill()
    limit_up = first.gql('{ quote(symbol: "600000") { limitUp } }', token=token)["data"]["quote"]["limitUp"]
    meanwhile = [place(second, token, account, type="LIMIT", price=limit_up) for _ in range(10)]
    killed_at = time.monotonic()
    holders = wait_until(
        lambda: {health(s)["exchange"]["role"] for s in (first, second)} & {"active"}, what="a standby took over"
    )
    print(f"takeover after the kill: {time.monotonic() - killed_at:.1f}s")
    assert holders == {"active"}
    roles = sorted(health(s)["exchange"]["role"] for s in (first, second))
    assert roles == ["active", "standby"]
    wait_until(lambda: all(f for f in fills_by_order(cluster["dsn"], meanwhile).values()), what="queued orders filled")
    time.sleep(1)
    assert_each_filled_once(cluster["dsn"], meanwhile)
    assert_each_filled_once(cluster["dsn"], placed, journal_pruned=True)


def test_killed_between_match_and_booking(cluster: dict[str, Any]) -> None:
    exchange = start_exchange(cluster, "exchange")
    api = start_serve(cluster, "api", BROKERQL_EMBEDDED_EXCHANGE="0")
    token = api.login("gold001")
    account = account_of(api, token)
    limit_down = api.gql('{ quote(symbol: "600000") { limitDown } }', token=token)["data"]["quote"]["limitDown"]
    resting = place(api, token, account, type="LIMIT", price=limit_down)
    dsn = cluster["dsn"]

    async def hold_the_position_row_and_place() -> str:
        connection = await asyncpg.connect(dsn)
        try:
            async with connection.transaction():
                # Booking a buy of 600000 updates this position row: it waits on our lock (placing does not).
                await connection.fetch(
                    "SELECT * FROM position WHERE account_id = $1 AND symbol = '600000' FOR UPDATE", account
                )
                order_id = await asyncio.to_thread(place, api, token, account, type="MARKET")

                async def waiting() -> bool:  # the exchange's write, blocked on our lock
                    rows = await connection.fetch(
                        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                    return bool(rows)

                for _ in range(300):
                    if await waiting():
                        break
                    await asyncio.sleep(0.1)
                assert await waiting(), "the match's journal and booking wait for the position row"
                exchange.kill()  # after the match, before its journal entry and booking commit (held by our lock)
        finally:
            await connection.close()
        return order_id

    matched = asyncio.run(hold_the_position_row_and_place())
    # A lone fill is journalled and booked in one transaction: the kill left neither, so the match is as
    # if it never happened and the restarted exchange works the order again (from the database).
    assert fills_by_order(dsn, [matched])[matched] == [], "nothing was booked before the kill"
    journalled = sql(dsn, "SELECT count(*) AS n FROM execution_report WHERE order_id = $1", matched)
    assert journalled[0]["n"] == 0, "nothing was journalled without its booking"

    start_exchange(cluster, "exchange-restarted")
    wait_until(lambda: fills_by_order(dsn, [matched])[matched], what="the order filled after the restart")
    wait_until(lambda: sql(dsn, "SELECT status FROM orders WHERE id = $1", matched)[0]["status"] == "FILLED")
    time.sleep(1)
    assert_each_filled_once(dsn, [matched], journal_pruned=True)  # a later prune may have run
    events = sql(dsn, "SELECT kind, payload FROM account_event WHERE order_id = $1 ORDER BY seq", matched)
    assert [e["kind"] for e in events].count("FILL") == len(fills_by_order(dsn, [matched])[matched])

    # The resting order is back on the restarted exchange's book: its cancel is confirmed by the exchange.
    cancel = api.gql(
        "mutation($a: ID!, $o: [ID!]) { cancelOrders(input: {accountId: $a, scope: SELECTED, orderIds: $o}) "
        "{ canceled { id } errors { code } } }",
        {"a": account, "o": [resting]},
        token,
    )
    assert cancel["data"]["cancelOrders"]["errors"] == []
    wait_until(lambda: sql(dsn, "SELECT status FROM orders WHERE id = $1", resting)[0]["status"] == "CANCELED")
    kinds = [r["kind"] for r in sql(dsn, "SELECT kind FROM account_event WHERE order_id = $1 ORDER BY seq", resting)]
    assert kinds == ["ACCEPTED", "CANCEL_REQUESTED", "CANCELED"]
    assert json.dumps(kinds)
