"""The units the plan names, seeded into ``departments`` (idempotent)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Department

CITY_UNITS: tuple[str, ...] = (
    "市生态环境局",
    "市发展改革委",
    "市科技局",
    "市工信局",
    "市财政局",
    "市住建局",
    "市农业农村局",
    "市商务局",
    "市卫健委",
    "运城海关",
    "市市场监管局",
    "市税务局",
    "运城银保监分局",
)

# adcode, name: the 13 county-level governments.
COUNTIES: tuple[tuple[str, str], ...] = (
    ("140802", "盐湖区"),
    ("140821", "临猗县"),
    ("140822", "万荣县"),
    ("140823", "闻喜县"),
    ("140824", "稷山县"),
    ("140825", "新绛县"),
    ("140826", "绛县"),
    ("140827", "垣曲县"),
    ("140828", "夏县"),
    ("140829", "平陆县"),
    ("140830", "芮城县"),
    ("140881", "永济市"),
    ("140882", "河津市"),
)

ZONE = "运城开发区管委会"


def county_government_name(county: str) -> str:
    """The department name used for a county's government, e.g. 盐湖区 → 盐湖区政府."""
    return f"{county}政府"


def all_departments() -> list[tuple[str, str, str | None]]:
    """(name, kind, adcode) for every unit, city departments first."""
    rows: list[tuple[str, str, str | None]] = [(name, "city", None) for name in CITY_UNITS]
    rows += [(county_government_name(name), "county", code) for code, name in COUNTIES]
    rows.append((ZONE, "zone", None))
    return rows


async def ensure_departments(session: AsyncSession) -> int:
    """Insert the missing units; returns how many were added. The caller commits.

    ``ON CONFLICT DO NOTHING``: two processes starting at once both seed, and neither fails.
    """
    existing = set((await session.scalars(select(Department.name))).all())
    missing = [
        {"name": name, "kind": kind, "adcode": adcode}
        for name, kind, adcode in all_departments()
        if name not in existing
    ]
    if not missing:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = await session.execute(
        dialect.insert(Department).values(missing).on_conflict_do_nothing(index_elements=["name"])
    )
    return max(result.rowcount or 0, 0)
