"""Filing a report: the wizard's confirmation becomes a case, routed to its unit, checked for duplicates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot import texts
from bot.reports import geo
from bot.reports.catalog import (
    OPEN_STATUSES,
    find_category,
    local_zone,
)
from bot.reports.notices import notify_new_case
from bot.reports.workflow import REPORTER_ACTOR, SYSTEM_ACTOR, ReportError, record_event
from storage.models import Report, ReportPhoto
from storage.report_queries import format_case_no

if TYPE_CHECKING:
    from bot.services import Services


@dataclass
class ReportDraft:
    """What the wizard gathered, ready to be filed by ``create_report``."""

    draft_id: str
    category: str
    description: str
    reported_object: str = ""
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    location_source: str = ""
    county: str | None = None
    county_method: str = ""
    needs_manual_routing: bool = False
    routing_note: str = ""
    real_name: bool = False
    reporter_name: str = ""
    reporter_phone: str = ""


async def find_duplicate(
    session: AsyncSession,
    *,
    category: str,
    latitude: float,
    longitude: float,
    now: datetime,
    radius_m: float,
    window_days: int,
    exclude_id: int | None = None,
) -> Report | None:
    """The nearest open report of ``category`` within ``radius_m`` filed in the last ``window_days``."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(0.01, math.cos(math.radians(latitude))))
    stmt = select(Report).where(
        Report.category == category,
        Report.status.in_(OPEN_STATUSES),
        Report.created_at >= now - timedelta(days=window_days),
        Report.latitude.between(latitude - dlat, latitude + dlat),
        Report.longitude.between(longitude - dlon, longitude + dlon),
    )
    if exclude_id is not None:
        stmt = stmt.where(Report.id != exclude_id)
    best: tuple[float, Report] | None = None
    for candidate in (await session.scalars(stmt)).all():
        assert candidate.latitude is not None and candidate.longitude is not None
        distance = geo.haversine_m(latitude, longitude, candidate.latitude, candidate.longitude)
        if distance <= radius_m and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None


async def create_report(
    session: AsyncSession, services: Services, draft: ReportDraft, *, openid: str, now: datetime
) -> Report:
    """File the draft as a report (or return the report already filed from this draft).

    Attaches the draft's photos, links it to an open report nearby (status ``duplicate``), writes the
    history and enqueues the new-case notices for the department(s) and the county.
    """
    existing = await session.scalar(select(Report).where(Report.draft_id == draft.draft_id))
    if existing is not None:
        return existing
    chosen = find_category(draft.category)
    if chosen is None:
        raise ReportError(texts.REPORT_ERR_CATEGORY.format(category=draft.category))
    report = Report(
        draft_id=draft.draft_id,
        status="submitted",
        category=chosen.code,
        description=draft.description,
        reported_object=draft.reported_object,
        latitude=draft.latitude,
        longitude=draft.longitude,
        address=draft.address,
        location_source=draft.location_source,
        department=chosen.department,
        county=draft.county,
        county_method=draft.county_method if draft.county else "",
        needs_manual_routing=draft.needs_manual_routing or draft.county is None,
        routing_note=draft.routing_note,
        reporter_openid=openid,
        real_name=draft.real_name,
        reporter_name=draft.reporter_name if draft.real_name else "",
        reporter_phone=draft.reporter_phone if draft.real_name else "",
        created_at=now,
        updated_at=now,
        photos=[],
        events=[],
    )
    try:
        async with session.begin_nested():
            session.add(report)
            await session.flush()
    except IntegrityError:
        # The same draft was confirmed twice at once (two processes): the other one filed it.
        existing = await session.scalar(select(Report).where(Report.draft_id == draft.draft_id))
        if existing is None:
            raise
        return existing
    report.case_no = format_case_no(report.id, now, local_zone(services))
    record_event(report, actor=REPORTER_ACTOR, kind="created", now=now, to_status="submitted")

    cfg = services.config.reports
    original = None
    if report.latitude is not None and report.longitude is not None:
        original = await find_duplicate(
            session,
            category=report.category,
            latitude=report.latitude,
            longitude=report.longitude,
            now=now,
            radius_m=cfg.duplicate_radius_m,
            window_days=cfg.duplicate_window_days,
            exclude_id=report.id,
        )
    if original is not None:
        report.status = "duplicate"
        report.duplicate_of = original.case_no
        record_event(
            report,
            actor=SYSTEM_ACTOR,
            kind="status",
            now=now,
            from_status="submitted",
            to_status="duplicate",
            note=f"{original.case_no}",
            internal=True,
        )
    await session.execute(
        update(ReportPhoto)
        .where(
            ReportPhoto.draft_id == draft.draft_id,
            ReportPhoto.reporter_openid == openid,
            ReportPhoto.report_id.is_(None),
        )
        .values(report_id=report.id)
    )
    await session.flush()
    # The photos just attached, in one query (a refresh would first re-select the report itself).
    photos = await session.scalars(
        select(ReportPhoto).where(ReportPhoto.report_id == report.id).order_by(ReportPhoto.position)
    )
    set_committed_value(report, "photos", list(photos.all()))
    if original is None:
        await notify_new_case(session, services, report, now=now)
    return report
