"""Reading reports for the console: who may see what, the list filters, sorting and paging.

Visibility: an admin sees every report; a city department sees the reports routed to it; a county
government (or the development zone's committee) also sees every report located in its county, whatever
department handles it. The same rule guards the list, the case page, photos, actions and exports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from multidict import MultiDictProxy
from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import LOCAL_TZ
from bot.reports.geo import routing_targets
from knowledge.duties import duties
from storage.models.reports import Report
from storage.staff import StaffInfo

CASE_NO_MAX = 32
SORTS: dict[str, tuple[str, Any]] = {
    "new": (texts.SORT_LABELS["new"], (Report.created_at.desc(), Report.id.desc())),
    "old": (texts.SORT_LABELS["old"], (Report.created_at.asc(), Report.id.asc())),
    "updated": (texts.SORT_LABELS["updated"], (Report.updated_at.desc(), Report.id.desc())),
    "status": (texts.SORT_LABELS["status"], (Report.status.asc(), Report.created_at.desc(), Report.id.desc())),
}


def staff_area(staff: StaffInfo) -> str | None:
    """The county-level unit a county government or the zone's committee covers (None for city units)."""
    return duties().area_of(staff.department) if staff.department_kind in ("county", "zone") else None


def visible_clause(staff: StaffInfo) -> ColumnElement[bool]:
    if staff.is_admin:
        return true()
    area = staff_area(staff)
    if area is not None:
        return or_(Report.department == staff.department, Report.county == area)
    return Report.department == staff.department


def can_see(staff: StaffInfo, report: Report) -> bool:
    if staff.is_admin or report.department == staff.department:
        return True
    area = staff_area(staff)
    return area is not None and report.county == area


class FilterError(ValueError):
    """A filter value that is not one of the allowed ones; the message names it."""


def department_names() -> list[str]:
    return list(duties().department_names)


@dataclass
class ReportFilters:
    status: str = ""
    category: str = ""
    county: str = ""
    department: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    sort: str = "new"
    page: int = 1
    problems: list[str] = field(default_factory=list)

    def query_pairs(self, *, page: int | None = None) -> list[tuple[str, str]]:
        """The filters as URL query pairs (for pager and export links)."""
        pairs = [
            ("status", self.status),
            ("category", self.category),
            ("county", self.county),
            ("department", self.department),
            ("date_from", self.date_from.isoformat() if self.date_from else ""),
            ("date_to", self.date_to.isoformat() if self.date_to else ""),
            ("q", self.q),
            ("sort", self.sort if self.sort != "new" else ""),
        ]
        if page is not None and page > 1:
            pairs.append(("page", str(page)))
        return [(k, v) for k, v in pairs if v]


def _parse_date(value: str, label: str) -> date | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise FilterError(f"{label}：{texts.BAD_DATE}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{label}：{texts.BAD_DATE}") from None


def parse_filters(query: MultiDictProxy[str], categories: list[str]) -> ReportFilters:
    """Read the list filters; a value outside the allowed set raises FilterError (shown as a 400 page)."""

    def one(name: str, limit: int = 100) -> str:
        value = query.get(name, "").strip()
        if len(value) > limit:
            raise FilterError(texts.FILTER_TOO_LONG.format(name=name))
        return value

    filters = ReportFilters()
    filters.status = one("status")
    if filters.status and filters.status not in texts.STATUS_LABELS:
        raise FilterError(texts.FILTER_UNKNOWN["status"].format(value=filters.status))
    filters.category = one("category")
    if filters.category and filters.category not in categories:
        raise FilterError(texts.FILTER_UNKNOWN["category"].format(value=filters.category))
    filters.county = one("county")
    if filters.county and filters.county not in routing_targets():
        raise FilterError(texts.FILTER_UNKNOWN["county"].format(value=filters.county))
    filters.department = one("department")
    if filters.department and filters.department not in department_names():
        raise FilterError(texts.FILTER_UNKNOWN["department"].format(value=filters.department))
    filters.date_from = _parse_date(one("date_from", 32), texts.DATE_FROM_LABEL)
    filters.date_to = _parse_date(one("date_to", 32), texts.DATE_TO_LABEL)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise FilterError(texts.DATES_REVERSED)
    filters.q = one("q", 64)
    filters.sort = one("sort") or "new"
    if filters.sort not in SORTS:
        raise FilterError(texts.FILTER_UNKNOWN["sort"].format(value=filters.sort))
    page = one("page", 12) or "1"
    if not page.isdigit() or not 1 <= int(page) <= 1_000_000:
        raise FilterError(texts.BAD_PAGE)
    filters.page = int(page)
    return filters


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(ZoneInfo("UTC"))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(staff: StaffInfo, filters: ReportFilters) -> Select[tuple[Report]]:
    stmt = select(Report).where(Report.case_no.is_not(None), visible_clause(staff))
    if filters.status:
        stmt = stmt.where(Report.status == filters.status)
    if filters.category:
        stmt = stmt.where(Report.category == filters.category)
    if filters.county:
        stmt = stmt.where(Report.county == filters.county)
    if filters.department:
        stmt = stmt.where(Report.department == filters.department)
    if filters.date_from:
        stmt = stmt.where(Report.created_at >= _local_midnight_utc(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(Report.created_at < _local_midnight_utc(filters.date_to + timedelta(days=1)))
    if filters.q:
        pattern = f"%{_like_escape(filters.q)}%"
        stmt = stmt.where(
            or_(
                Report.case_no == filters.q.upper(),
                Report.description.like(pattern, escape="\\"),
                Report.address.like(pattern, escape="\\"),
                Report.reported_object.like(pattern, escape="\\"),
            )
        )
    return stmt


async def count_reports(session: AsyncSession, staff: StaffInfo, filters: ReportFilters) -> int:
    inner = filtered(staff, filters).with_only_columns(Report.id).subquery()
    return int(await session.scalar(select(func.count()).select_from(inner)) or 0)


async def page_of_reports(
    session: AsyncSession, staff: StaffInfo, filters: ReportFilters, *, page_size: int
) -> tuple[list[Report], int]:
    total = await count_reports(session, staff, filters)
    order = SORTS[filters.sort][1]
    stmt = filtered(staff, filters).order_by(*order).offset((filters.page - 1) * page_size).limit(page_size)
    return list((await session.scalars(stmt)).all()), total


async def all_matching(session: AsyncSession, staff: StaffInfo, filters: ReportFilters, *, limit: int) -> list[Report]:
    stmt = filtered(staff, filters).order_by(*SORTS[filters.sort][1]).limit(limit)
    return list((await session.scalars(stmt)).all())


def valid_case_no(case_no: str) -> bool:
    return 0 < len(case_no) <= CASE_NO_MAX and all(ch.isalnum() or ch in "-_" for ch in case_no)


async def visible_report(session: AsyncSession, staff: StaffInfo, case_no: str) -> Report | None:
    """The report if it exists AND this account may see it (both cases look the same from outside)."""
    if not valid_case_no(case_no):
        return None
    report = await session.scalar(select(Report).where(Report.case_no == case_no))
    if report is None or not can_see(staff, report):
        return None
    return report
