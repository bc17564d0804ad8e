"""Test fixtures. Every API/service test runs on SQLite + in-process bus, and again on PostgreSQL +
Redis when they answer on this machine (the session header says which ran).

Databases are cloned from a template migrated and seeded once per session: a file copy on SQLite,
CREATE DATABASE ... TEMPLATE on PostgreSQL. Redis isolation is a key prefix per test.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import redis

from brokerql.settings import Settings, load_settings

PG_ADMIN_DSN = os.environ.get("BROKERQL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BROKERQL_TEST_REDIS", "redis://127.0.0.1:6379/0")
# Per session: several test runs may share this PostgreSQL server at once.
TEMPLATE_DB = f"brokerql_tpl_{os.getpid()}_{secrets.token_hex(3)}"
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8}


def _pg_available() -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


PG_UP = _pg_available()
REDIS_UP = _redis_available()
BACKENDS = ["sqlite-memory"] + (["postgres-redis"] if PG_UP and REDIS_UP else [])


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"brokerql backends: {', '.join(BACKENDS)}",
        f"  PostgreSQL at {PG_ADMIN_DSN}: {'yes' if PG_UP else 'NOT reachable - skipped'}",
        f"  Redis at {REDIS_URL}: {'yes' if REDIS_UP else 'NOT reachable - skipped'}",
    ]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    terminalreporter.write_line(f"brokerql backends exercised: {', '.join(BACKENDS)}")


def base_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "secret_key": "test-secret-key-0123456789-abcdefghijklmnop",
        "heartbeat_seconds": 0.5,
        "market_tick_seconds": 0.05,
        "market_warmup_steps": 20,
        "demo": True,
        "rate_limit_scale": 1000,  # tests fire many requests; tests/api/test_limits.py sets it back to 1
        # No document-check process per app (a spawn costs seconds); tests/api/test_guard_process.py starts them
        "guard_processes": 0,
        **FAST_ARGON2,
    }
    values.update(overrides)
    return load_settings(**values)


def _pg_url(database: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{database}"


async def _seed(settings: Settings) -> None:
    from brokerql.domain.identity.passwords import Passwords
    from brokerql.services.seed import seed_demo
    from brokerql.store.database import Database
    from brokerql.store.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    await seed_demo(db, Passwords(time_cost=1, memory_cost=8, parallelism=1))
    await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_seed(base_settings(database_url=f"sqlite+aiosqlite:///{path}")))
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    if not PG_UP:
        yield None
        return

    async def build() -> None:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        await admin.close()
        await _seed(base_settings(database_url=_pg_url(TEMPLATE_DB)))

    async def drop() -> None:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
        await admin.close()

    asyncio.run(build())
    yield TEMPLATE_DB
    asyncio.run(drop())


@dataclass
class Backend:
    name: str
    settings: Settings


@pytest.fixture(params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: str | None
) -> AsyncIterator[Backend]:
    """A fresh seeded database (and bus) per test, on each available backend."""
    if request.param == "sqlite-memory":
        path = tmp_path / "brokerql.db"
        shutil.copy(sqlite_template, path)
        yield Backend(request.param, base_settings(database_url=f"sqlite+aiosqlite:///{path}"))
        return
    name = f"brokerql_t_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    prefix = f"bqtest:{name}"
    try:
        yield Backend(
            request.param,
            base_settings(database_url=_pg_url(name), redis_url=REDIS_URL, redis_prefix=prefix),
        )
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
