"""Which driver-direct path a database gets (kept apart: the drivers import the package's shared parts)."""

from __future__ import annotations

from typing import Any

from storage.hotpath import HotPath
from storage.hotpath.postgres import PostgresHotPath
from storage.hotpath.sqlite import SqliteHotPath


def hotpath_for(database: Any, limit: int, group_window: float = 0.005) -> HotPath | None:
    """The driver-direct path for ``database`` (a ``storage.db.Database``, which closes it on dispose);
    None for an in-memory SQLite database, which another connection cannot share. ``group_window``: how
    long an SQLite group commit waits for pushes in flight to join it (seconds)."""
    if database.hot_path is None:
        url = database.url
        if database.is_sqlite:
            path = url.database or ""
            if not path or path == ":memory:" or path.startswith("file:"):
                return None
            database.hot_path = SqliteHotPath(path, group_window)
        else:
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            database.hot_path = PostgresHotPath(dsn, limit)
    return database.hot_path
