"""The units the plan names, seeded into ``departments`` (idempotent) from the rows the service passes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Department

# (name, kind, adcode): kind is city, county or zone. The units themselves are data (knowledge/data/duties.toml);
# the service passes them in, storage only keeps the rows.
UnitRow = tuple[str, str, str | None]


async def ensure_departments(session: AsyncSession, units: Iterable[UnitRow]) -> int:
    """Insert the missing units; returns how many were added. The caller commits.

    ``ON CONFLICT DO NOTHING``: two processes starting at once both seed, and neither fails.
    """
    existing = set((await session.scalars(select(Department.name))).all())
    missing = [
        {"name": name, "kind": kind, "adcode": adcode}
        for name, kind, adcode in units
        if name not in existing
    ]
    if not missing:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = await session.execute(
        dialect.insert(Department).values(missing).on_conflict_do_nothing(index_elements=["name"])
    )
    return max(result.rowcount or 0, 0)


async def seed_departments(database: Database, units: Iterable[UnitRow]) -> int:
    """``ensure_departments`` in a transaction of its own (start-up, ``db upgrade``, test set-up)."""
    async with database.session() as session:
        added = await ensure_departments(session, units)
        await session.commit()
    return added
