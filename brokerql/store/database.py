"""The async engines and the unit of work: one transaction that commits or rolls back as a whole."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from brokerql.bus import codec
from brokerql.store.columns import utcnow
from brokerql.store.sqlite_driver import BUSY_TIMEOUT_MS, one_hop_dbapi
from brokerql.store.tables import OutboxRow
from brokerql.store.write_groups import WriteGroups

log = logging.getLogger(__name__)

# Each PostgreSQL pool: connections kept, and opened beyond them at most (closed again when returned).
POOL_SIZE, POOL_OVERFLOW = 20, 10
# Small: each process of a deployment holds both pools, and PostgreSQL allows 100 connections by default.
# Bookings beyond it (16 run at once) wait for one among the work with precedence only.
PRECEDENCE_POOL_SIZE, PRECEDENCE_POOL_OVERFLOW = 8, 0  # no overflow: one would be opened and closed again and again

# A write session's `info` key: callables run once its unit of work has committed (for caches of rows
# it changed; e.g. `services/trading/facts_cache.py`). Not run if it rolled back.
AFTER_COMMIT = "brokerql.after_commit"


def sqlite_path(url: str) -> Path | None:
    marker = ":///"
    if marker not in url or ":memory:" in url:
        return None
    return Path(url.split(marker, 1)[1].split("?", 1)[0])


def _tune_sqlite(engine: AsyncEngine, *, immediate: bool, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """WAL for concurrent readers, synchronous=FULL so a committed order survives power loss.

    Writers open with BEGIN IMMEDIATE: the write lock is taken up front, so two writers queue on the
    busy timeout instead of deadlocking when both try to upgrade a read lock. (The inline writer runs
    with none and waits on its thread instead: `store/sqlite_driver.py`.)
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # On the DBAPI cursor: `exec_driver_sql`'s execution context cost about 0.1 ms of CPU, in a
        # transaction that costs 0.6 ms in all, and an order makes four or five (docs/performance.md).
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(begin)
        finally:
            cursor.close()


class Database:
    """Owns the engines. `transaction()` is the write unit of work; `read()` a consistent snapshot."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._commit_listeners: list[Callable[[], None]] = []
        if self.is_sqlite:
            path = sqlite_path(url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            # One thread hop per statement instead of three or four, and none for most of the writer's
            # (`store/sqlite_driver.py`).
            aio = url.startswith("sqlite+aiosqlite")
            writer = {"module": one_hop_dbapi(inline="writer")} if aio else {}
            reader = {"module": one_hop_dbapi(inline="reader")} if aio else {}
            self.writer = create_async_engine(url, echo=echo, **writer)
            # Readers: 20 kept, at most 30 at once. With the default 5 kept, 32 clients placing orders
            # opened and closed an overflow connection (its thread, PRAGMAs, functions) every few orders.
            pool = {"pool_size": 20, "max_overflow": 10} if path is not None else {}  # (:memory: has one)
            self.reader = create_async_engine(url, echo=echo, **pool, **reader)
            busy_timeout_ms = 0 if aio else BUSY_TIMEOUT_MS  # the inline connections wait on their threads
            _tune_sqlite(self.writer, immediate=True, busy_timeout_ms=busy_timeout_ms)
            _tune_sqlite(self.reader, immediate=False, busy_timeout_ms=busy_timeout_ms)
            self.write_groups: WriteGroups | None = WriteGroups(self.writer)  # one writer: group commit
            self.precedence_writer = self.writer  # precedence is a place in the group queue here
        else:
            # 20 kept, at most 30 at once as before: an overflow connection is closed when it is returned,
            # so with 10 kept a busy process kept connecting and preparing statements anew (~7% of its CPU
            # in a profile of bench/bench_order_path.py at 32 clients).
            self.writer = create_async_engine(
                url, echo=echo, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_pre_ping=True
            )
            self.reader = self.writer
            # Work with precedence has connections of its own: on the one pool it queued for a connection
            # behind every placement waiting for one (128 clients, 30 connections).
            lane = {"pool_size": PRECEDENCE_POOL_SIZE, "max_overflow": PRECEDENCE_POOL_OVERFLOW}
            self.precedence_writer = create_async_engine(url, echo=echo, **lane, pool_pre_ping=True)
            self.write_groups = None  # concurrent writers on their own connections; the server groups fsyncs

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every unit of work that wrote to the outbox (the relay's wake-up)."""
        self._commit_listeners.append(listener)

    @asynccontextmanager
    async def transaction(self, *, precedence: bool = False, leads: bool = False) -> AsyncIterator[UnitOfWork]:
        """One unit of work; leaving the block normally returns once it is committed (on SQLite in a
        group commit with the other units of work of the moment, `store/write_groups.py`).

        `precedence`: it finishes work already acknowledged (the exchange's journal and bookings, the
        outbox relay), so it goes before new work waiting for the writer: on SQLite its group forms
        first, on PostgreSQL it takes a connection from a pool of its own. `leads` (with `precedence`):
        it reads no uncommitted write of another unit of work, which on SQLite means it runs first in
        its group (on PostgreSQL every transaction is its own)."""
        async with self._write_session(precedence, leads) as session:
            uow = UnitOfWork(session, is_sqlite=self.is_sqlite)
            yield uow
            await uow.write_pending()
        for callback in session.info.pop(AFTER_COMMIT, ()):
            callback()
        if uow.emitted:
            for listener in self._commit_listeners:
                listener()

    @asynccontextmanager
    async def _write_session(self, precedence: bool, leads: bool) -> AsyncIterator[AsyncSession]:
        if self.write_groups is not None:
            async with self.write_groups.session(precedence=precedence, leads=leads) as session:
                yield session
            return
        engine = self.precedence_writer if precedence else self.writer
        async with AsyncSession(engine, expire_on_commit=False, autoflush=True) as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with AsyncSession(self.reader, expire_on_commit=False) as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.reader.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.precedence_writer is not self.writer:
            await self.precedence_writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def after_commit(session: AsyncSession | Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the unit of work of `session` (its async session, or the sync one under it,
    as flush events get) has committed; not if it rolls back."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


# Built once: a statement's cache key is worked out again for each new statement object.
_INSERT_OUTBOX = insert(OutboxRow.__table__)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class WrittenBack:
    """A row a unit of work writes back when it ends (`UnitOfWork.write_back`)."""

    row: Any
    statement: Any
    values: Callable[[Any], dict[str, Any]]


class UnitOfWork:
    """One write transaction. Messages emitted here reach the bus only after it commits (outbox)."""

    def __init__(self, session: AsyncSession, *, is_sqlite: bool) -> None:
        self.session = session
        self.is_sqlite = is_sqlite
        self.emitted = 0
        self._outbox: list[dict[str, Any]] = []
        self._at_end: dict[Any, list[dict[str, Any]]] = {}  # insert statement -> its rows, in order
        self._written_back: dict[tuple[type, str], WrittenBack] = {}

    def emit(self, topic: str, message: object) -> None:
        """Queue a typed message (see `bus.codec`); all of a unit of work's messages are inserted in one
        statement before commit, and the relay publishes them after it."""
        self.emit_record(topic, codec.to_record(message))

    def emit_record(self, topic: str, record: codec.Record) -> None:
        """As `emit`, for a message already made a record (`codec.to_record`, e.g. for the event log too)."""
        self._outbox.append({"topic": topic, "payload": record, "created_at": utcnow()})
        self.emitted += 1

    def insert_at_end(self, statement: Any, row: dict[str, Any]) -> None:
        """Insert `row` with `statement` (a Core INSERT built once) when the unit of work ends, with the
        other rows of that statement in one executemany, after the ORM's pending writes (the rows it
        refers to, e.g. an account opened in this unit of work)."""
        self._at_end.setdefault(statement, []).append(row)

    def write_back(self, key: str, row: Any, statement: Any, values: Callable[[Any], dict[str, Any]]) -> None:
        """Keep `row` (out of the session: the ORM no longer tracks it) and write it with `statement`
        (a Core UPDATE built once) and `values(row)` when the unit of work ends, whatever changed on it
        meanwhile. The ORM's flush of one changed object cost about three Core statements."""
        self._written_back[type(row), key] = WrittenBack(row, statement, values)

    def written_back(self, kind: type, key: str) -> Any | None:
        """The row of `kind` kept under `key` for writing back, if this unit of work holds it."""
        kept = self._written_back.get((kind, key))
        return kept.row if kept is not None else None

    async def write_pending(self) -> None:
        """The rows kept for writing back and the rows queued for the end, then the outbox (one
        statement each)."""
        if self._written_back:
            self._refuse_second_copies()
        if self._at_end or self._written_back:
            await self.session.flush()
        if self._written_back:
            kept, self._written_back = self._written_back, {}
            by_statement: dict[Any, list[dict[str, Any]]] = {}
            for each in kept.values():
                by_statement.setdefault(each.statement, []).append(each.values(each.row))
            for statement, rows in by_statement.items():
                await self.session.execute(statement, rows)
        if self._at_end:
            pending, self._at_end = self._at_end, {}
            for statement, rows in pending.items():
                await self.session.execute(statement, rows)
        if self._outbox:
            rows, self._outbox = self._outbox, []
            await self.session.execute(_INSERT_OUTBOX, rows)

    def _refuse_second_copies(self) -> None:
        """A row kept for writing back must be the only copy changed: an ORM-tracked copy of the same row
        (read again with the ORM in this unit of work) would be flushed, then overwritten by the kept one."""
        for obj in self.session.dirty:
            identity = inspect(obj).identity
            if identity is not None and len(identity) == 1 and (type(obj), identity[0]) in self._written_back:
                raise RuntimeError(f"{type(obj).__name__} {identity[0]} was changed through a second copy")

    def lock(self, statement: Any) -> Any:
        """Row lock for PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers."""
        return statement if self.is_sqlite else statement.with_for_update()
