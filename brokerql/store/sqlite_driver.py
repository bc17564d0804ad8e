"""SQLite through aiosqlite with one thread hop per statement, or none.

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

The connections of the writer and the readers (`one_hop_dbapi(inline=...)`) go further: their statements
run on the event loop itself, with no hop at all, whenever the connection's thread has nothing queued or
running. A hop cost about 100 us of CPU (the thread's wake-up, the GIL changing hands, the loop's
wake-up) where the statement itself, a point write or read, takes a few microseconds; a lone order made
about fifteen writes and several read transactions of three statements each. What can block or take
long stays on the thread:
- the writer's COMMIT (its fsync) and an executemany of more than `INLINE_ROWS` rows;
- waiting for SQLite's lock: these connections run with no busy timeout, so a statement that finds the
  lock held elsewhere (another process's writer: the admin CLI, say) fails at once, before it has done
  anything, and is sent to the thread to wait there for up to `BUSY_TIMEOUT_MS`, as every statement did
  before;
- a reader's SELECT that runs longer than `READ_STEPS` of SQLite's virtual machine (about a
  millisecond): it is interrupted and run again on the thread; and a reader's statement other than a
  SELECT (a reader's transaction that changed nothing also commits on the loop).
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

# How long a statement waits for SQLite's lock (on the thread) before "database is locked".
BUSY_TIMEOUT_MS = 10_000
# An executemany of more rows than this runs on the thread: its time grows with the rows.
INLINE_ROWS = 256
# A reader's SELECT on the loop is interrupted after this many virtual machine steps (about 1 ms here),
# counted in checks every `_STEPS_A_CHECK`, and run again on the thread.
READ_STEPS = 100_000
_STEPS_A_CHECK = 10_000
_SQLITE_BUSY, _SQLITE_INTERRUPT = 5, 9


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
        finished[0] += 1  # only one thread runs statements of a connection at a time


def _run_waiting(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool, finished: list[int]
) -> tuple[Any, list[Any], int, Any]:
    """On the connection's thread: `_run`, waiting for the lock as long as SQLite's busy timeout allows."""
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return _run(conn, operation, parameters, many, finished)
    finally:
        conn.execute("PRAGMA busy_timeout=0")


def _run_bounded(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool, finished: list[int]
) -> tuple[Any, list[Any], int, Any]:
    """On the loop: `_run`, interrupted once it has taken `READ_STEPS` steps."""
    checks = [0]

    def enough() -> bool:
        checks[0] += 1
        return checks[0] * _STEPS_A_CHECK > READ_STEPS

    conn.set_progress_handler(enough, _STEPS_A_CHECK)
    try:
        return _run(conn, operation, parameters, many, finished)
    finally:
        conn.set_progress_handler(None, 0)


def _ran_nothing(exc: sqlite3.OperationalError) -> bool:
    """The statement found the lock held, or was interrupted (a SELECT): nothing of it took effect."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (_SQLITE_BUSY, _SQLITE_INTERRUPT)


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
        adapted: OneHopConnection = self._adapt_connection  # type: ignore[assignment]
        if adapted.inline and adapted._idle() and (run := adapted.inline_runner(operation, parameters, many)):
            outcome = await self._run_inline(adapted, run, operation, parameters, many)
        else:
            outcome = await self._hop(adapted, _run_waiting if adapted.inline else _run, operation, parameters, many)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _run_inline(
        self, adapted: OneHopConnection, run: Any, operation: Any, parameters: Any, many: bool
    ) -> Any:
        raw: sqlite3.Connection = self._connection._conn  # type: ignore[attr-defined]
        opening = not raw.in_transaction
        adapted._started[0] += 1
        try:
            return run(raw, operation, parameters, many, adapted._finished)
        except sqlite3.OperationalError as exc:
            # A lock found held by a statement opening a transaction, or an interrupted SELECT: again,
            # on the thread, where it may wait and take its time.
            if many or not _ran_nothing(exc) or not (opening or run is _run_bounded):
                raise
        return await self._hop(adapted, _run_waiting, operation, parameters, many)

    async def _hop(self, adapted: OneHopConnection, fn: Any, operation: Any, parameters: Any, many: bool) -> Any:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            adapted._started[0] += 1  # only the event loop writes it
            return await connection._execute(fn, connection._conn, operation, parameters, many, adapted._finished)

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
    inline = False  # statements on the event loop when the thread is idle (`InlineConnection`)

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
        if raw is not None and self._idle() and not raw.in_transaction:
            return
        super().rollback()

    def _idle(self) -> bool:
        """Nothing queued for or running on the connection's thread (nor a statement waiting to hop)."""
        return (
            self._started[0] == self._finished[0] and self._connection._tx.empty() and not self._execute_mutex.locked()
        )


class InlineConnection(OneHopConnection):
    """The writer's: every statement on the loop when the thread is idle, but a long executemany."""

    __slots__ = ()
    inline = True

    def inline_runner(self, operation: str, parameters: Any, many: bool) -> Any:
        return None if many and len(parameters) > INLINE_ROWS else _run


class InlineReadConnection(InlineConnection):
    """A reader's: BEGIN and bounded SELECTs on the loop, and the COMMIT of a transaction that changed
    nothing; anything else on the thread."""

    __slots__ = ("_changes_at_begin",)

    def inline_runner(self, operation: str, parameters: Any, many: bool) -> Any:
        if many:
            return None
        head = operation.lstrip()[:6].upper()
        if head.startswith("BEGIN"):
            self._changes_at_begin = self._connection._conn.total_changes
            return _run
        return _run_bounded if head == "SELECT" else None

    def commit(self) -> None:
        raw = self._connection._connection
        if raw is None or not self._idle() or raw.total_changes != getattr(self, "_changes_at_begin", -1):
            super().commit()
            return
        try:
            raw.commit()
        except Exception as error:
            self._handle_exception(error)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, handing out `OneHopConnection`s (or inline ones)."""

    connection_class: type[OneHopConnection] = OneHopConnection

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        if self.connection_class.inline:  # used from the event loop's thread as well as from its own,
            kw.update(check_same_thread=False, timeout=0)  # and never waiting for the lock on the loop
        adapted = super().connect(*arg, **kw)
        return self.connection_class(self, adapted._connection)


def one_hop_dbapi(*, inline: str | None = None) -> OneHopDBAPI:
    """The DBAPI module for `create_async_engine(url, module=...)`. `inline="writer"` for the engine of
    the one writer, `inline="reader"` for the readers' engine; their connections must then run with
    `PRAGMA busy_timeout=0` (see the module's notes)."""
    dbapi = OneHopDBAPI(aiosqlite, sqlite3)
    kinds = {None: OneHopConnection, "writer": InlineConnection, "reader": InlineReadConnection}
    dbapi.connection_class = kinds[inline]
    return dbapi
