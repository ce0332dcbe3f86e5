"""Loading what the case clocks need: each report with the first time it reached each status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.clock import DECISION_STATUSES, CaseTimes
from storage.models.cases import ReportExtension
from storage.models.reports import Report, ReportEvent


@dataclass(frozen=True)
class TimedCase:
    """A report's fields that statistics and clock lists show, with its clock inputs."""

    id: int
    case_no: str
    category: str
    county: str | None
    department: str
    status: str
    times: CaseTimes


def _first(status_condition: ColumnElement[bool]) -> ColumnElement[datetime]:
    return func.min(case((status_condition, ReportEvent.at), else_=None))


def status_times_subquery():  # type: ignore[no-untyped-def]
    """One row per report with history: first decision, first acceptance, first resolution."""
    return (
        select(
            ReportEvent.report_id.label("report_id"),
            _first(ReportEvent.to_status.in_(sorted(DECISION_STATUSES))).label("decided_at"),
            _first(ReportEvent.to_status == "accepted").label("accepted_at"),
            _first(ReportEvent.to_status == "resolved").label("resolved_at"),
        )
        .where(ReportEvent.kind == "status")
        .group_by(ReportEvent.report_id)
        .subquery()
    )


async def load_timed_cases(
    session: AsyncSession, where: ColumnElement[bool] | None = None, *, extension_days: bool = True
) -> list[TimedCase]:
    """Every filed report matching ``where`` (a clause on ``Report``), with its clock inputs."""
    times = status_times_subquery()
    columns = [
        Report.id,
        Report.case_no,
        Report.category,
        Report.county,
        Report.department,
        Report.status,
        Report.created_at,
        times.c.decided_at,
        times.c.accepted_at,
        times.c.resolved_at,
    ]
    stmt = (
        select(*columns)
        .outerjoin(times, times.c.report_id == Report.id)
        .where(Report.case_no.is_not(None), where if where is not None else true())
        .order_by(Report.id)
    )
    rows = (await session.execute(stmt)).all()
    extensions = await extension_days_by_report(session, [row.id for row in rows]) if extension_days else {}
    return [
        TimedCase(
            id=row.id,
            case_no=row.case_no,
            category=row.category,
            county=row.county,
            department=row.department,
            status=row.status,
            times=CaseTimes(
                created_at=row.created_at,
                status=row.status,
                category=row.category,
                decided_at=row.decided_at,
                accepted_at=row.accepted_at,
                resolved_at=row.resolved_at,
                extension_days=extensions.get(row.id, 0),
            ),
        )
        for row in rows
    ]


async def extension_days_by_report(session: AsyncSession, report_ids: list[int]) -> dict[int, int]:
    """Total extension days per report (only reports that have any)."""
    totals: dict[int, int] = {}
    for start in range(0, len(report_ids), 1000):
        chunk = report_ids[start : start + 1000]
        stmt = (
            select(ReportExtension.report_id, func.sum(ReportExtension.days))
            .where(ReportExtension.report_id.in_(chunk))
            .group_by(ReportExtension.report_id)
        )
        totals.update({report_id: int(days or 0) for report_id, days in (await session.execute(stmt)).all()})
    return totals
