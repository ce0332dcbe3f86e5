"""Notices about reports, written to the outbox in the caller's transaction.

The responsible units hear of a new or re-routed case; reporters hear of a change in their report's state.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.outbound.notify import notify_department
from bot.reports import geo
from bot.reports.catalog import (
    category_label,
    find_category,
    local_zone,
    status_label,
)
from bot.reports.department_notice import case_notice, case_values, labelled
from bot.reports.reporter_notice import enqueue_reporter_notice
from storage.models import Report, ReportEvent
from storage.report_queries import linked_reports
from storage.staff import units_of

if TYPE_CHECKING:
    from bot.services import Services


NOTICE_REPLY_CHARS = 300  # a customer-service text stays well inside WeChat's limits


def console_url(services: Services, case_no: str) -> str:
    return f"{services.config.server.public_base_url.rstrip('/')}/console/reports/{case_no}"


async def notify_unit(
    session: AsyncSession, services: Services, report: Report, department: str, *, title: str, key: str, now: datetime
) -> int:
    """One notice to a department's bound officials (the reminders area owns the contacts)."""
    zone = local_zone(services)
    assert report.case_no is not None
    values = case_values(
        report.case_no, category_label(report.category), report.county or "", report.created_at.astimezone(zone)
    )
    fields = labelled(values)
    place = report.address or ""
    detail = report.description[:300] + (f"\n{place}" if place else "")
    url = console_url(services, report.case_no)
    return await notify_department(
        session,
        services,
        department=department,
        title=title,
        fields=fields,
        detail=detail,
        url=url,
        dedup_key=key,
        now=now,
        notice=case_notice(values, title=title, detail=detail, url=url),
    )


async def notify_new_case(session: AsyncSession, services: Services, report: Report, *, now: datetime) -> int:
    """New-case notices to the category's department(s) and the county-level unit; returns the count."""
    known = find_category(report.category)
    targets = [report.department, *(known.also_notify if known else ())]
    if report.county:
        targets.append(geo.county_government(report.county))
    sent = 0
    for department in dict.fromkeys(targets):
        sent += await notify_unit(
            session,
            services,
            report,
            department,
            title=texts.REPORT_DEPT_NOTICE_TITLE,
            key=f"report-new:{report.case_no}:{department}",
            now=now,
        )
    return sent


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reply_part(report: Report, public_reply: str) -> str:
    """The reply or reason inside a notice, kept short (查询 shows the whole text)."""
    if report.status == "rejected":
        return texts.REPORT_NOTICE_REJECTED.format(
            reason=clip(report.reject_reason, NOTICE_REPLY_CHARS), authority=clip(report.competent_authority, 60)
        )
    return texts.REPORT_NOTICE_REPLY.format(reply=clip(public_reply, NOTICE_REPLY_CHARS)) if public_reply else ""


async def notify_reporters(
    session: AsyncSession, services: Services, report: Report, event: ReportEvent, public_reply: str, *, now: datetime
) -> None:
    """The status change to the reporter, and to the reporters of reports linked to this one: one routed
    notice each (``bot.reports.reporter_notice``)."""
    assert report.case_no is not None
    reply = _reply_part(report, public_reply)
    # The unit that acted: a console account's department, else (command line, system) the case's unit.
    unit = (await units_of(session, [event.actor])).get(event.actor) or report.department
    if report.reporter_openid:  # empty once the reporter's identity was erased: nobody to tell
        content = texts.REPORT_UPDATE_NOTICE.format(
            case_no=report.case_no, status=status_label(report.status), unit=unit, reply=reply
        )
        await enqueue_reporter_notice(
            session,
            services,
            openid=report.reporter_openid,
            case_no=report.case_no,
            status=report.status,
            unit=unit,
            content=content,
            key=f"report-notice:{report.case_no}:{event.id}",
            now=now,
        )
    for linked in await linked_reports(session, report.case_no):
        assert linked.case_no is not None
        if not linked.reporter_openid:
            continue
        content = texts.REPORT_LINKED_NOTICE.format(
            case_no=linked.case_no, original=report.case_no, status=status_label(report.status), unit=unit, reply=reply
        )
        await enqueue_reporter_notice(
            session,
            services,
            openid=linked.reporter_openid,
            case_no=linked.case_no,
            status=report.status,
            unit=unit,
            content=content,
            key=f"report-notice:{linked.case_no}:{event.id}",
            now=now,
        )
