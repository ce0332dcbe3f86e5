"""The one-hop aiosqlite driver: results, row counts, ids, executemany and errors behave as the stock one's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import sqlite_driver
from storage.db import Database


async def test_sqlite_engines_use_the_one_hop_driver_and_it_behaves(tmp_path: Path) -> None:
    assert sqlite_driver.available()
    database = Database(f"sqlite:///{tmp_path}/one-hop.db")
    try:
        assert isinstance(database.engine.dialect, sqlite_driver.OneHopDialect)
        async with database.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert inserted.lastrowid == 1
            await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
            updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            assert updated.rowcount == 2
            rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
            returned = await conn.execute(text("INSERT INTO t (name) VALUES ('d') RETURNING id"))
            assert returned.scalar() == 4
        with pytest.raises(IntegrityError):
            async with database.engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        async with database.engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM t")) == 4
    finally:
        await database.dispose()
