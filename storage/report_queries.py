"""Reading and writing report rows: finding a report by case number, lists and counts, a draft's photos.

Raises facts (``ReportNotFound``), never user-facing words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.facts import Fact
from storage.models import Report, ReportPhoto

SORTS: dict[str, Any] = {
    "created_at": Report.created_at,
    "updated_at": Report.updated_at,
    "case_no": Report.id,
    "status": Report.status,
    "category": Report.category,
    "county": Report.county,
    "department": Report.department,
}


class ReportNotFound(Fact):
    """No report has this case number."""

    def __init__(self, case_no: str) -> None:
        super().__init__("report_not_found", case_no=case_no)
        self.case_no = case_no


async def get_report(session: AsyncSession, case_no: str) -> Report | None:
    """The report with this case number (lenient about case and full-width digits), photos and history loaded."""
    return await session.scalar(select(Report).where(Report.case_no == normalize_case_no(case_no)))


async def get_report_for_update(session: AsyncSession, case_no: str) -> Report:
    """Like ``get_report`` but locks the row on PostgreSQL (SQLite's writers already serialize)."""
    stmt = select(Report).where(Report.case_no == normalize_case_no(case_no)).with_for_update()
    report = await session.scalar(stmt)
    if report is None:
        raise ReportNotFound(case_no)
    return report


def _filtered(
    stmt: Select[Any],
    *,
    status: str | None,
    category: str | None,
    county: str | None,
    department: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    reporter_openid: str | None = None,
) -> Select[Any]:
    if status:
        stmt = stmt.where(Report.status == status)
    if category:
        stmt = stmt.where(Report.category == category)
    if county:
        stmt = stmt.where(Report.county.is_(None)) if county == "-" else stmt.where(Report.county == county)
    if department:
        stmt = stmt.where(Report.department == department)
    if date_from is not None:
        stmt = stmt.where(Report.created_at >= date_from)
    if date_to is not None:
        stmt = stmt.where(Report.created_at < date_to)
    if reporter_openid is not None:
        stmt = stmt.where(Report.reporter_openid == reporter_openid)
    return stmt


async def list_reports(
    session: AsyncSession,
    *,
    status: str | None = None,
    category: str | None = None,
    county: str | None = None,
    department: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    sort: str = "-created_at",
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Report], int]:
    """A page of reports and the total matching the filters.

    ``county="-"`` selects reports awaiting manual routing (no county). ``date_to`` is exclusive.
    ``sort`` is a key of ``SORTS`` with an optional leading ``-`` for descending; unknown keys fall back
    to ``-created_at``. Ties are broken by id so pages are stable.
    """
    filters = dict(
        status=status, category=category, county=county, department=department, date_from=date_from, date_to=date_to
    )
    total = await session.scalar(_filtered(select(func.count(Report.id)), **filters)) or 0
    descending = sort.startswith("-")
    column = SORTS.get(sort.lstrip("-"))
    if column is None:
        column, descending = Report.created_at, True
    order = [column.desc(), Report.id.desc()] if descending else [column.asc(), Report.id.asc()]
    stmt = _filtered(select(Report), **filters).order_by(*order).offset(max(0, offset)).limit(max(0, min(limit, 1000)))
    return list((await session.scalars(stmt)).all()), int(total)


async def reports_of(session: AsyncSession, openid: str, *, limit: int = 10) -> list[Report]:
    """The reporter's own reports, newest first."""
    stmt = select(Report).where(Report.reporter_openid == openid).order_by(Report.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def count_reports_today(session: AsyncSession, openid: str, now: datetime, zone: ZoneInfo) -> int:
    """Reports this user filed since local midnight."""
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    stmt = select(func.count(Report.id)).where(Report.reporter_openid == openid, Report.created_at >= midnight)
    return int(await session.scalar(stmt) or 0)


async def linked_reports(session: AsyncSession, case_no: str) -> list[Report]:
    """Reports marked as duplicates of ``case_no``."""
    stmt = select(Report).where(Report.duplicate_of == case_no).order_by(Report.id)
    return list((await session.scalars(stmt)).all())


async def add_draft_photo(
    session: AsyncSession, *, openid: str, draft_id: str | None, media_id: str, now: datetime, pic_url: str = ""
) -> int:
    """Queue a photo for download; returns how many photos the draft (or the pending pool) now has."""
    owner = _draft_photos(openid, draft_id)
    count = int(await session.scalar(select(func.count(ReportPhoto.id)).where(*owner)) or 0)
    session.add(
        ReportPhoto(
            draft_id=draft_id,
            reporter_openid=openid,
            position=count + 1,
            media_id=media_id[:255],
            pic_url=pic_url if len(pic_url) <= 1024 else "",
            status="pending",
            next_attempt_at=now,
            received_at=now,
        )
    )
    await session.flush()
    return count + 1


def _draft_photos(openid: str, draft_id: str | None) -> tuple[Any, ...]:
    base = (ReportPhoto.reporter_openid == openid, ReportPhoto.report_id.is_(None))
    if draft_id is None:
        return (*base, ReportPhoto.draft_id.is_(None))
    return (*base, ReportPhoto.draft_id == draft_id)


async def count_draft_photos(session: AsyncSession, openid: str, draft_id: str | None) -> int:
    return int(await session.scalar(select(func.count(ReportPhoto.id)).where(*_draft_photos(openid, draft_id))) or 0)


async def adopt_pending_photos(
    session: AsyncSession, *, openid: str, draft_id: str, since: datetime, limit: int
) -> int:
    """Attach photos sent before the report started (within the pending window) to the new draft."""
    ids = (
        await session.scalars(
            select(ReportPhoto.id)
            .where(*_draft_photos(openid, None), ReportPhoto.received_at >= since)
            .order_by(ReportPhoto.id)
            .limit(limit)
        )
    ).all()
    for position, photo_id in enumerate(ids, start=1):
        await session.execute(
            update(ReportPhoto).where(ReportPhoto.id == photo_id).values(draft_id=draft_id, position=position)
        )
    return len(ids)


async def discard_draft_photos(session: AsyncSession, *, openid: str, draft_id: str) -> int:
    """Forget a draft's photos (the reporter asked to start the photos over). Files go with the media job's purge."""
    result = await session.execute(
        update(ReportPhoto).where(*_draft_photos(openid, draft_id)).values(draft_id=f"discarded:{draft_id}"[:64])
    )
    return int(result.rowcount or 0)


def format_case_no(report_id: int, created_at: datetime, zone: ZoneInfo) -> str:
    """YC<local date>-<id, at least 4 digits>: unique because the id is."""
    return f"YC{created_at.astimezone(zone):%Y%m%d}-{report_id:04d}"


_CASE_NO_CHARS = str.maketrans("０１２３４５６７８９－—ＹＣｙｃ", "0123456789--YCyc")


def normalize_case_no(text: str) -> str:
    """Accept lower case, spaces and full-width characters as the reporter may type them."""
    return "".join(text.translate(_CASE_NO_CHARS).split()).upper()
