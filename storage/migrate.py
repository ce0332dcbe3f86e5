"""Schema migrations (Alembic) driven from code: ``python -m bot db upgrade`` and the start-up check.

The migration scripts live in ``storage/migrations/versions``. Each feature area owns its own branch
from the core revision; ``upgrade heads`` applies them all.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade_on(connection: Connection, url: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")


def _current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def expected_heads(url: str = "sqlite://") -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


async def current_heads(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return await conn.run_sync(_current_heads)


async def schema_is_current(database: Database) -> bool:
    return await current_heads(database) == expected_heads()


async def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision of every branch (the departments are seeded by the caller,
    ``storage.departments.seed_departments``, from the units the service knows).

    On PostgreSQL an advisory lock keeps two processes starting at once from migrating together.
    """
    url = database.url.render_as_string(hide_password=False)
    async with database.engine.connect() as conn:
        if not database.is_sqlite:
            await conn.exec_driver_sql("SELECT pg_advisory_lock(724001)")
        try:
            await conn.run_sync(_upgrade_on, url)
            await conn.commit()
        finally:
            if not database.is_sqlite:
                await conn.exec_driver_sql("SELECT pg_advisory_unlock(724001)")
                await conn.commit()


async def ensure_schema(database: Database) -> bool:
    """Run the migrations when the schema is behind; returns True when it upgraded."""
    if await schema_is_current(database):
        return False
    await upgrade(database)
    return True


def upgrade_sync(url: str) -> None:
    async def _go() -> None:
        database = Database(url)
        try:
            await upgrade(database)
        finally:
            await database.dispose()

    asyncio.run(_go())
