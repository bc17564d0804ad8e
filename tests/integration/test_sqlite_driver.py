"""SQLite statements through the one-hop cursor (store/sqlite_driver.py): same answers as the DBAPI's,
on the event loop (no call on the connection's thread) for the writer's statements and the readers'
SELECTs, one call on the thread for what may block or take long."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import exc, text

from brokerql.store.database import Database
from brokerql.store.sqlite_driver import INLINE_ROWS


@pytest.mark.parametrize(("engine", "write_hops"), [("reader", 1), ("writer", 0)])
async def test_calls_per_statement_and_the_dbapi_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, write_hops: int
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'one-hop.db'}")
    calls: list[object] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(fn)
        return await original(self, fn, *args, **kwargs)

    try:
        async with db.writer.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        async with getattr(db, engine).connect() as connection:
            await connection.begin()  # BEGIN [IMMEDIATE]: a statement of its own
            calls.clear()
            inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert len(calls) == write_hops
            assert inserted.rowcount == 1 and inserted.lastrowid == 1
            many = await connection.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
            assert many.rowcount == 2
            calls.clear()
            rows = (await connection.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert len(calls) == 0
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]
            returned = await connection.execute(text("UPDATE t SET name = name || '!' WHERE id > 1 RETURNING id"))
            assert sorted(r[0] for r in returned) == [2, 3]
            first = await connection.execute(text("SELECT name FROM t ORDER BY id"))
            assert first.fetchmany(2) == [("a",), ("b!",)]
            with pytest.raises(exc.IntegrityError):
                await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
            await connection.commit()
            # The pool's reset after a COMMIT: nothing to roll back, no call on the thread.
            calls.clear()
            await connection.run_sync(lambda c: c.connection.dbapi_connection.rollback())
            assert calls == []
            await connection.begin()
            await connection.execute(text("DELETE FROM t"))
            await connection.rollback()  # in a transaction: rolled back for real
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 3
    finally:
        await db.dispose()


async def test_the_writer_hops_for_a_long_executemany_and_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    calls: list[object] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(getattr(fn, "__name__", fn))
        return await original(self, fn, *args, **kwargs)

    try:
        async with db.writer.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        async with db.writer.connect() as connection:
            await connection.begin()
            await connection.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": k} for k in range(INLINE_ROWS)])
            assert calls == []
            await connection.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": k} for k in range(INLINE_ROWS + 1)])
            assert calls == ["_run_waiting"]
            await connection.commit()  # the fsync: on the thread
            assert calls == ["_run_waiting", "commit"]
        async with db.reader.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 2 * INLINE_ROWS + 1
    finally:
        await db.dispose()


async def test_the_writer_waits_for_a_lock_held_elsewhere_on_its_thread(tmp_path: Path) -> None:
    """Another process's writer (here a plain sqlite3 connection) holds the lock: the writer's BEGIN
    IMMEDIATE waits for it off the event loop. The holder lets go only after the loop has gone on
    ticking while the BEGIN waits, so a BEGIN that blocked the loop would fail this test."""
    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.writer.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            # No waiting on the event loop: a BEGIN that finds the lock held fails there at once.
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 0
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO t (id) VALUES (1)")
        release = threading.Event()

        def let_go() -> None:
            release.wait(30)
            holder.execute("COMMIT")
            holder.close()

        letting_go = threading.Thread(target=let_go)
        letting_go.start()

        async def write() -> None:
            async with db.writer.begin() as connection:
                await connection.execute(text("INSERT INTO t (id) VALUES (2)"))

        writing = asyncio.create_task(write())
        for _ in range(5):  # the loop keeps running while the writer waits
            await asyncio.sleep(0.01)
            assert not writing.done()
        release.set()
        await writing
        letting_go.join()
        async with db.reader.connect() as connection:
            assert (await connection.execute(text("SELECT id FROM t ORDER BY id"))).scalars().all() == [1, 2]
        async with db.writer.connect() as connection:  # after the fallback too
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 0
    finally:
        await db.dispose()


async def test_a_reader_runs_a_long_select_and_commits_a_write_on_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    calls: list[object] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(getattr(fn, "__name__", fn))
        return await original(self, fn, *args, **kwargs)

    long_select = text(
        "SELECT (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 300000) "
        "SELECT count(*) FROM r)"
    )
    try:
        async with db.writer.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        async with db.reader.connect() as connection:
            calls.clear()  # the new connection's set-up
            async with connection.begin():  # read only: BEGIN, SELECT and COMMIT on the loop
                assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0
            assert calls == []
            async with connection.begin():  # interrupted on the loop, run again on the thread
                assert (await connection.execute(long_select)).scalar() == 300_000
            assert calls == ["_run_waiting"]
            async with connection.begin():  # a write through a reader: on the thread, its COMMIT too
                await connection.execute(text("INSERT INTO t (id) VALUES (1)"))
            assert calls == ["_run_waiting", "_run_waiting", "commit"]
        async with db.reader.connect() as connection:
            assert (await connection.execute(text("SELECT id FROM t"))).scalars().all() == [1]
    finally:
        await db.dispose()
