"""SQLite statements through the one-hop cursor (store/sqlite_driver.py): same answers as the DBAPI's,
one call on the connection's thread per statement."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import exc, text

from brokerql.store.database import Database


async def test_one_call_per_statement_and_the_dbapi_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
        async with db.writer.connect() as connection:
            await connection.begin()  # BEGIN IMMEDIATE: a statement of its own
            calls.clear()
            inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert len(calls) == 1
            assert inserted.rowcount == 1 and inserted.lastrowid == 1
            many = await connection.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
            assert many.rowcount == 2
            calls.clear()
            rows = (await connection.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert len(calls) == 1
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
