"""SQLAlchemy's aiosqlite driver with one thread hop per statement instead of three or four.

aiosqlite runs every call on its own thread: SQLAlchemy's adapter creates a cursor (one hop), executes
(one), fetches the rows (one) and closes the cursor (one), each hop a queue hand-off plus an event-loop
wake-up. A push runs about ten statements inside SQLite's single write lock, so under load those hops,
each waiting for its turn on a busy event loop, were most of the time the lock was held. Here the cursor
is created, executed, drained and closed in one function on aiosqlite's thread.

Only ``cursor.execute``/``executemany`` change; server-side cursors, transactions and connection handling
are SQLAlchemy's. This leans on SQLAlchemy's adapter internals (``_cursor_cls``, ``_make_new_cursor``,
``_execute_async``) and aiosqlite's ``Connection._execute``: ``available()`` checks that they are there,
and ``storage.db`` falls back to the stock driver when they are not.
"""

from __future__ import annotations

import collections
from typing import Any

from sqlalchemy.dialects import registry

DRIVER_NAME = "ycbot_aiosqlite"

try:
    import aiosqlite
    from sqlalchemy.dialects.sqlite.aiosqlite import (
        AsyncAdapt_aiosqlite_connection,
        AsyncAdapt_aiosqlite_cursor,
        AsyncAdapt_aiosqlite_dbapi,
        SQLiteDialect_aiosqlite,
    )
except ImportError:  # an older SQLAlchemy: the stock driver is used
    AsyncAdapt_aiosqlite_cursor = None  # type: ignore[assignment,misc]


def available() -> bool:
    if AsyncAdapt_aiosqlite_cursor is None:
        return False
    return (
        hasattr(AsyncAdapt_aiosqlite_connection, "_cursor_cls")
        and all(
            hasattr(AsyncAdapt_aiosqlite_cursor, name)
            for name in ("_make_new_cursor", "_aenter_cursor", "_execute_async", "_awaitable_cursor_close")
        )
        and hasattr(aiosqlite.Connection, "_execute")
    )


class _OneHopResult:
    """Stands in for aiosqlite's cursor: the statement runs on the connection's thread in one call."""

    __slots__ = ("_connection", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, connection: Any) -> None:
        self._connection = connection  # an aiosqlite.Connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _run(self, operation: str, parameters: Any, many: bool) -> list[Any] | None:
        """On aiosqlite's thread: execute, drain and close a sqlite3 cursor."""
        cursor = self._connection._conn.cursor()
        try:
            if many:
                cursor.executemany(operation, parameters)
            elif parameters is None:
                cursor.execute(operation)
            else:
                cursor.execute(operation, parameters)
            self.description = cursor.description
            rows = cursor.fetchall() if cursor.description else None
            self.rowcount, self.lastrowid = cursor.rowcount, cursor.lastrowid
            return rows
        finally:
            cursor.close()

    async def execute(self, operation: str, parameters: Any = None) -> list[Any] | None:
        return await self._connection._execute(self._run, operation, parameters, False)

    async def executemany(self, operation: str, seq_of_parameters: Any) -> _OneHopResult:
        await self._connection._execute(self._run, operation, seq_of_parameters, True)
        return self

    def close(self) -> None:
        """Nothing to do: the sqlite3 cursor was closed on the thread."""


if AsyncAdapt_aiosqlite_cursor is not None:

    class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
        __slots__ = ()
        _awaitable_cursor_close = False  # close() is synchronous and free

        def _make_new_cursor(self, connection: Any) -> Any:
            return _OneHopResult(connection)

        def _aenter_cursor(self, cursor: Any) -> Any:
            return cursor

        async def _execute_async(self, operation: Any, parameters: Any) -> Any:
            async with self._adapt_connection._execute_mutex:
                rows = await self._cursor.execute(operation, parameters)
                if rows is not None:
                    self._rows = collections.deque(rows)
                return self._cursor

    class OneHopConnection(AsyncAdapt_aiosqlite_connection):
        __slots__ = ()
        _cursor_cls = OneHopCursor

    class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
        def connect(self, *arg: Any, **kw: Any) -> Any:
            connection = super().connect(*arg, **kw)
            connection.__class__ = OneHopConnection  # same slots; only the cursor class differs
            return connection

    class OneHopDialect(SQLiteDialect_aiosqlite):
        supports_statement_cache = True  # every dialect subclass must say so, or SQLAlchemy stops caching

        @classmethod
        def import_dbapi(cls) -> Any:
            return OneHopDBAPI(__import__("aiosqlite"), __import__("sqlite3"))

    registry.register(f"sqlite.{DRIVER_NAME}", __name__, "OneHopDialect")
