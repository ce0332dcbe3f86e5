"""Engine and session factory for SQLite (default) and PostgreSQL.

One ``AsyncSession`` per incoming message or job tick; the caller commits explicitly, anything else rolls back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def normalize_url(url: str) -> URL:
    """Map plain ``sqlite://`` / ``postgresql://`` URLs to their async drivers.

    A relative SQLite path is taken relative to the project root, so the service finds the same file
    whichever folder it is started from.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database)
            if not path.is_absolute():
                path = PROJECT_ROOT / path
            path.parent.mkdir(parents=True, exist_ok=True)
            parsed = parsed.set(database=str(path))
    elif backend in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///… or postgresql://…")
    return parsed


def sync_url(url: str) -> URL:
    """The same database for synchronous tools (Alembic runs through the async engine, so this is informative)."""
    return normalize_url(url)


class Database:
    """Owns the engine and the session factory."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 5) -> None:
        """``pool_size`` connections stay open (PostgreSQL); up to ``max_overflow`` more are opened for peaks."""
        self.url = normalize_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.pool_capacity = max(1, pool_size) + max(0, max_overflow)
        # Statement parameters hold openids, names, phones and coordinates: never put them into exception
        # messages or the SQL echo, both of which end up in logs.
        kwargs: dict = {"echo": echo, "hide_parameters": True}
        engine_url = self.url
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
            from storage import sqlite_driver  # only SQLite URLs load (and register) the local driver

            if sqlite_driver.available():
                engine_url = engine_url.set(drivername=f"sqlite+{sqlite_driver.DRIVER_NAME}")
        else:
            kwargs.update(pool_size=max(1, pool_size), max_overflow=max(0, max_overflow), pool_pre_ping=True)
            if "prepared_statement_cache_size" not in engine_url.query:
                # asyncpg prepares every statement once per connection; the default 100 is less than the
                # distinct statements the service runs, so a bigger cache avoids re-preparing (a round trip).
                engine_url = engine_url.update_query_dict({"prepared_statement_cache_size": "500"})
        self.engine: AsyncEngine = create_async_engine(engine_url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin_immediate)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        self.hot_path: Any = None  # storage.hotpath.HotPath, made by the message pipeline; closed with the engine

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose uncommitted work is discarded on exit.

        Closing (rather than rolling back) keeps loaded objects readable after the block.
        """
        async with self.sessions() as session:
            yield session

    async def dispose(self) -> None:
        if self.hot_path is not None:
            await self.hot_path.close()
            self.hot_path = None
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy, not the driver, emit BEGIN (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(conn) -> None:  # type: ignore[no-untyped-def]
    """Take SQLite's write lock at BEGIN: a deferred transaction that reads, then writes, can fail at
    once with SQLITE_BUSY when another writer got in between; an immediate one waits its turn."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")
