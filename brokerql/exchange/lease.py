"""Exactly one venue: a lease that one process holds, and a fencing token checked on every journal write.

Whichever lease is used only decides who may run the venue; the fence decides whose writes count. On
acquiring, the holder claims a new token in the database (`venue_lease.token`, strictly increasing), and
every journal write checks in its own transaction that this token is still the current one. A holder that
lost its lease without noticing (paused, partitioned) is refused on its next write and steps down.

- `PostgresLease`: a session advisory lock on a dedicated connection. The server releases it the moment
  that connection dies (kill -9 closes the socket), so a standby polling for it takes over within a poll.
- `RedisLease`: `SET key value NX PX ttl`, renewed by the holder; the value carries a token from INCR.
  A dead holder's key expires after `ttl`.
- `FileLease`: an exclusive `flock` on a file beside a SQLite database, so two local processes sharing
  one database cannot both run a venue; the kernel releases it when the process dies.
- `ProcessLease`: an in-process guard (an in-memory database, or no file locks on this platform).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Any, ClassVar, Protocol

from sqlalchemy import text

from brokerql.store.database import Database, sqlite_path

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x6272_6F78  # "brox": the venue's lease (the outbox relay uses "brok")


class LeaseLost(Exception):
    """This process no longer holds the venue's lease (or a newer holder has written): step down."""


def holder_name() -> str:
    """Who holds the lease, as shown in logs and /healthz: host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


class Lease(Protocol):
    """Mutual exclusion between venue hosts. `try_acquire` never blocks; `keep` raises LeaseLost."""

    kind: str

    async def try_acquire(self) -> int | None:
        """Take the lease if free: a token candidate (0 if this kind has none of its own), else None."""

    async def keep(self) -> None:
        """Renew or verify the lease; raise LeaseLost when it is gone."""

    async def release(self) -> None: ...


class ProcessLease:
    """One holder per name within this process."""

    kind = "process"
    _held: ClassVar[set[str]] = set()

    def __init__(self, name: str) -> None:
        self.name = name
        self.mine = False

    async def try_acquire(self) -> int | None:
        if self.name in ProcessLease._held:
            return None
        ProcessLease._held.add(self.name)
        self.mine = True
        return 0

    async def keep(self) -> None:
        if not self.mine:
            raise LeaseLost("process lease not held")

    async def release(self) -> None:
        if self.mine:
            ProcessLease._held.discard(self.name)
            self.mine = False


class FileLease:
    """An exclusive flock on `path` (beside the SQLite database); also exclusive within one process."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def try_acquire(self) -> int | None:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        self._fd = fd
        return 0

    async def keep(self) -> None:
        if self._fd is None:
            raise LeaseLost("file lease not held")

    async def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


class PostgresLease:
    """A session advisory lock held on a connection of its own (autocommit: no idle transaction)."""

    kind = "postgres"

    def __init__(self, db: Database, key: int = ADVISORY_LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._connection: Any = None

    async def try_acquire(self) -> int | None:
        connection = await self.db.writer.connect()
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = (await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar()
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return None
        self._connection = connection
        return 0

    async def keep(self) -> None:
        if self._connection is None:
            raise LeaseLost("advisory lock not held")
        try:
            await asyncio.wait_for(self._connection.execute(text("SELECT 1")), 5)
        except Exception as exc:  # the connection died: the server has released the lock
            await self._drop()
            raise LeaseLost(f"lease connection lost: {exc}") from exc

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        with contextlib.suppress(Exception):
            await connection.invalidate()  # never hand a possibly-locked connection back to the pool


_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisLease:
    """`SET NX PX` with a token from INCR; renewed by compare-and-expire, released by compare-and-delete."""

    kind = "redis"

    def __init__(self, client: Any, prefix: str, holder: str, ttl_ms: int = 3000) -> None:
        self.client = client
        self.key = f"{prefix}:venue:lease"
        self.counter = f"{prefix}:venue:lease:token"
        self.holder = holder
        self.ttl_ms = ttl_ms
        self._value: str | None = None

    async def try_acquire(self) -> int | None:
        if await self.client.exists(self.key):
            return None
        token = int(await self.client.incr(self.counter))
        value = f"{token}:{self.holder}"
        if not await self.client.set(self.key, value, nx=True, px=self.ttl_ms):
            return None
        self._value = value
        return token

    async def keep(self) -> None:
        if self._value is None:
            raise LeaseLost("redis lease not held")
        try:
            renewed = await self.client.eval(_RENEW, 1, self.key, self._value, self.ttl_ms)
        except Exception as exc:  # cannot tell: a lease that cannot be renewed is treated as lost
            self._value = None
            raise LeaseLost(f"cannot renew the redis lease: {exc}") from exc
        if not renewed:
            self._value = None
            raise LeaseLost("the redis lease expired and was taken")

    async def release(self) -> None:
        if self._value is not None:
            with contextlib.suppress(Exception):
                await self.client.eval(_RELEASE, 1, self.key, self._value)
            self._value = None


def choose_lease(kind: str, db: Database, redis_client: Any, prefix: str, holder: str) -> Lease:
    """`auto`: PostgreSQL's advisory lock on PostgreSQL, else Redis when scaled, else a file beside a
    SQLite database, else the in-process guard."""
    path = sqlite_path(db.url) if db.is_sqlite else None
    if kind == "auto":
        if not db.is_sqlite:
            kind = "postgres"
        elif redis_client is not None:
            kind = "redis"
        elif path is not None and hasattr(os, "O_RDWR") and _has_flock():
            kind = "file"
        else:
            kind = "process"
    if kind == "postgres":
        return PostgresLease(db)
    if kind == "redis":
        if redis_client is None:
            raise ValueError("the redis venue lease needs BROKERQL_REDIS_URL")
        return RedisLease(redis_client, prefix, holder)
    if kind == "file" and path is not None:
        return FileLease(path.with_name(path.name + ".venue.lock"))
    return ProcessLease(db.url)


def _has_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True
