"""What a harness serves: a project checkout as `make serve` runs it, or as its scaled deployment, and
the figures read off every process of it.

- `project_server`: `brokerql serve` of a checkout on a free port, SQLite in the run's temp dir, demo
  data, the tier limits lifted (BROKERQL_RATE_LIMIT_SCALE) so a few demo users can hold thousands of
  sockets or requests.
- `serve_project(..., workers=N)`: with N > 1 the scaled deployment: `serve --workers N` on a scratch
  PostgreSQL database and Redis prefix, with one `brokerql exchange` process; both dropped by `stop`.
- `PG_ADMIN`, `REDIS`: the services the scaled runs use (BROKERQL_TEST_PG / BROKERQL_TEST_REDIS);
  `backends_up` says which answer, `drop` removes a run's database and Redis keys.
- `Served`: one side of a comparison; its CPU, memory and open files are summed over every process of
  it (uvicorn's supervisor and workers, their guard workers, the exchange).
"""

# The driver starts subprocesses between its measured phases, never inside one:
# ruff: noqa: ASYNC220
from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import time
from pathlib import Path

from bench_push import Server, free_port, project_env, raise_nofile, rss_kib, tree_cpu_seconds, tree_pids

PG_ADMIN = os.environ.get("BROKERQL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BROKERQL_TEST_REDIS", "redis://127.0.0.1:6379/0")


def database_dsn(name: str) -> str:
    """The libpq address of database `name` on PG_ADMIN's server."""
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


async def scratch_database(name: str) -> str:
    """Create database `name` on PG_ADMIN's server for one run (`drop` removes it); its address."""
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return database_dsn(name)


async def pg_connections(database: str) -> int:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    try:
        return int(await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database))
    finally:
        await admin.close()


async def drop(database: str, prefix: str) -> None:
    import asyncpg
    import redis.asyncio as aioredis

    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    await admin.close()
    client = aioredis.Redis.from_url(REDIS)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def backends_up(wanted: str) -> list[str]:
    chosen = ["sqlite", "postgres"] if wanted == "both" else [wanted]
    if "postgres" not in chosen:
        return chosen

    async def probe() -> bool:
        import asyncpg
        import redis.asyncio as aioredis

        try:
            (await asyncpg.connect(PG_ADMIN, timeout=2)).terminate()
            client = aioredis.Redis.from_url(REDIS, socket_connect_timeout=1)
            await client.ping()
            await client.aclose()
        except Exception:
            return False
        return True

    if not asyncio.run(probe()):
        print("PostgreSQL or Redis does not answer: skipping the postgres backend", flush=True)
        chosen.remove("postgres")
    return chosen


def project_server(root: Path, tmp: Path, log: Path, extra: dict[str, str] | None = None) -> Server:
    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp / f'fanout-{port}.db'}"
    # a rate search outlasts the default 15 minutes of a token (streams end at expiry)
    env = project_env(port, url, BROKERQL_ACCESS_TOKEN_MINUTES="240", **(extra or {}))
    # The checkout's own code, whatever the working directory: no cwd on sys.path, the root first.
    env.update(PYTHONSAFEPATH="1", PYTHONPATH=str(root))
    return Server([str(root / ".venv/bin/python"), "-m", "brokerql.cli", "serve"], env, port, log)


def open_files(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


class Served:
    """One side of a comparison: its API server, and for the scaled deployment the `brokerql exchange`
    process and the scratch PostgreSQL database and Redis prefix it runs on."""

    def __init__(self, server: Server, exchange: subprocess.Popen[bytes] | None = None, database: str = "") -> None:
        self.server, self.exchange, self.database = server, exchange, database

    @property
    def port(self) -> int:
        return self.server.port

    def pids(self) -> list[int]:
        return tree_pids(self.server.pid) + (tree_pids(self.exchange.pid) if self.exchange else [])

    def cpu(self) -> float:
        return tree_cpu_seconds(self.server.pid) + (tree_cpu_seconds(self.exchange.pid) if self.exchange else 0.0)

    def rss_kib(self) -> int:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                total += rss_kib(pid)
        return total

    def open_files(self) -> int:
        return sum(open_files(pid) for pid in self.pids())

    async def stop(self) -> None:
        self.server.stop()
        if self.exchange is not None:
            self.exchange.terminate()
            await asyncio.to_thread(self.exchange.wait, 20)
        if self.database:
            await drop(self.database, f"bench-{self.database}")


async def serve_project(root: Path, tmp: Path, workers: int, extra: dict[str, str] | None = None) -> Served:
    """`brokerql serve` as `make serve` runs it (workers 1: SQLite, in-process bus and exchange), or the
    scaled deployment: `serve --workers N` on PostgreSQL + Redis with one `brokerql exchange` process."""
    name = root.name
    server = project_server(root, tmp, tmp / f"serve-{name}.log", extra)
    if workers <= 1:
        return Served(await asyncio.to_thread(server.start))
    database = f"bench_{secrets.token_hex(3)}"
    url = (await scratch_database(database)).replace("postgresql://", "postgresql+asyncpg://")
    server.env.update(BROKERQL_DATABASE_URL=url, BROKERQL_REDIS_URL=REDIS, BROKERQL_EMBEDDED_EXCHANGE="0",
                      BROKERQL_REDIS_PREFIX=f"bench-{database}")  # fmt: skip
    server.argv += ["--workers", str(workers)]
    log = (tmp / f"exchange-{name}.log").open("ab")
    exchange_argv = [*server.argv[:3], "exchange"]
    exchange = subprocess.Popen(exchange_argv, env=server.env, stdout=log, stderr=log, preexec_fn=raise_nofile)
    served = Served(server, exchange, database)
    try:
        await asyncio.sleep(8)  # the exchange migrates the database first; then the API seeds it
        await asyncio.to_thread(server.start, 120)  # healthy once it sees the exchange live
        await asyncio.to_thread(all_workers_up, server.log, workers)
    except BaseException:
        await served.stop()
        raise
    return served


def all_workers_up(log: Path, workers: int, timeout: float = 90) -> None:
    """Wait until every worker has started, not only the first that answers: a load generator that opens
    its keep-alive connections while one worker still starts puts them all on the others for the run
    (seen: two workers at 115% of the cores between them)."""
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count("Application startup complete") < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all {workers} workers started in {timeout}s: {log.read_text()[-3000:]}")
        time.sleep(0.2)
