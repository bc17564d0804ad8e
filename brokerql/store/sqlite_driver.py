"""SQLite through aiosqlite with one thread hop per statement.

aiosqlite runs each sqlite3 call on the connection's own thread, and SQLAlchemy's adapter makes one
call each for a cursor, the execute, the fetch and the close: four hops between the event loop and
that thread for one SELECT, three for a write. A hop is a queue put, a wake-up and a future resolved
back on the loop; at about 30 statements per order they were the largest single item of the event
loop's time in a profile of `bench/bench_order_path.py` (docs/performance.md, "CPU per order"). Here a
statement's cursor, execute, fetch and close run as one function on that thread: one hop.

Everything else is SQLAlchemy's aiosqlite dialect as it is (connections, pool, commit, isolation,
errors), except that a rollback outside a transaction (the pool's reset of every connection it takes
back, after a COMMIT too) makes no hop. Only the cursor and connection classes change, through the
DBAPI module the engine is given (`create_async_engine(url, module=one_hop_dbapi())`). Server-side
(streaming) cursors keep SQLAlchemy's own class.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


def _run(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool, finished: list[int]
) -> tuple[Any, list[Any], int, Any]:
    """On the connection's thread: the whole statement, cursor to close (then counted as finished)."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
        finished[0] += 1  # only this thread writes it


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one call on the connection's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def _make_new_cursor(self, connection: Any) -> Any:
        return None  # no sqlite3 cursor is held between statements: each statement makes and closes its own

    def _aenter_cursor(self, cursor: Any) -> Any:
        self._description, self._rowcount, self._lastrowid, self._arraysize = None, -1, None, 1
        return None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        adapted: OneHopConnection = self._adapt_connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            adapted._started[0] += 1  # only the event loop writes it
            outcome = await connection._execute(_run, connection._conn, operation, parameters, many, adapted._finished)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._run(operation, seq_of_parameters, many=True)

    async def _async_soft_close(self) -> None:
        return None  # the sqlite3 cursor closed with its statement

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None  # sqlite3 ignores them


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_finished", "_started")
    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        # Statements handed to the thread, and finished there: equal when none runs (one still running
        # after its caller was cancelled, for instance).
        self._started, self._finished = [0], [0]

    def rollback(self) -> None:
        # The pool rolls back every connection it takes back, also after a COMMIT: a hop for nothing
        # (sqlite3 itself skips ROLLBACK outside a transaction). Skipped only when the thread has
        # nothing to run or running (else the ROLLBACK queues behind it, as always): `in_transaction`
        # then reads SQLite's autocommit flag of an idle connection.
        raw = self._connection._connection
        idle = self._started[0] == self._finished[0] and self._connection._tx.empty()
        if raw is not None and idle and not raw.in_transaction:
            return
        super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, handing out `OneHopConnection`s."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
