"""Reporters' data requests from chat: see what is kept about them (access) and have it deleted (erasure).

An access request is answered at once in chat and recorded as done. An erasure request is recorded
open; staff carry it out from the console (or ``python -m bot privacy erase``): every closed case of the
reporter loses their identity (the case is kept), and their dialog state, pending location, photos not
attached to a report and follower record are deleted. Open cases keep the identity while they are
handled (staff may need to reach the reporter); the daily housekeeping erases it once they close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy.retention import erase_identity
from bot.reports.catalog import OPEN_STATUSES
from storage.models import Conversation, OutboxMessage, SubscriptionGrant, WechatUser
from storage.models.privacy import DataRequest
from storage.models.reports import Report, ReportPendingLocation, ReportPhoto
from storage.staff import record_audit

KINDS = ("access", "erasure")


class RequestError(ValueError):
    """The request cannot be carried out: there is no such deletion request, or it was carried out already."""

    def __init__(self, request_id: int, *, done: bool = False) -> None:
        super().__init__(f"P{request_id}: {'done already' if done else 'no such deletion request'}")
        self.request_id = request_id
        self.done = done


@dataclass
class HeldData:
    """What the service holds about one reporter (for the access answer)."""

    cases: list[str]
    real_name: int
    photos: int
    pinned: int


async def record_request(session: AsyncSession, openid: str, kind: str, *, now: datetime) -> tuple[DataRequest, bool]:
    """The reporter's open request of ``kind`` (a new one unless one is open): (request, created)."""
    if kind not in KINDS:
        raise ValueError(f"unknown request kind {kind!r}")
    if kind == "erasure":
        existing = await session.scalar(
            select(DataRequest).where(
                DataRequest.openid == openid, DataRequest.kind == kind, DataRequest.status == "open"
            )
        )
        if existing is not None:
            return existing, False
    request = DataRequest(openid=openid, kind=kind, status="open", created_at=now, handled_by="", result={})
    session.add(request)
    await session.flush()
    return request, True


async def held_data(session: AsyncSession, openid: str) -> HeldData:
    reports = list(
        (await session.scalars(select(Report).where(Report.reporter_openid == openid).order_by(Report.id))).all()
    )
    photos = await session.scalar(select(func.count(ReportPhoto.id)).where(ReportPhoto.reporter_openid == openid))
    return HeldData(
        cases=[r.case_no for r in reports if r.case_no],
        real_name=sum(1 for r in reports if r.real_name and r.reporter_name),
        photos=int(photos or 0),
        pinned=sum(1 for r in reports if r.latitude is not None),
    )


async def answer_access(session: AsyncSession, request: DataRequest, held: HeldData, *, now: datetime) -> None:
    """An access request answered in chat: recorded as done by the system."""
    request.status, request.handled_at, request.handled_by = "done", now, "system:chat"
    request.result = {"cases": held.cases, "photos": held.photos, "real_name": held.real_name}


async def list_requests(session: AsyncSession, *, status: str | None = None, limit: int = 200) -> list[DataRequest]:
    stmt = select(DataRequest).order_by(DataRequest.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(DataRequest.status == status)
    return list((await session.scalars(stmt)).all())


async def carry_out_erasure(
    session: AsyncSession, request_id: int, *, actor: str, now: datetime, ip: str = ""
) -> DataRequest:
    """Carry out an open erasure request (the caller commits); raises ``RequestError``."""
    request = await session.get(DataRequest, request_id)
    if request is None or request.kind != "erasure":
        raise RequestError(request_id)
    if request.status != "open":
        raise RequestError(request_id, done=True)
    openid = request.openid
    reports = list((await session.scalars(select(Report).where(Report.reporter_openid == openid))).all())
    erased = [r for r in reports if r.status not in OPEN_STATUSES]
    kept_open = [r for r in reports if r.status in OPEN_STATUSES]
    for report in erased:
        erase_identity(report, list(report.photos), now)
    loose_photos = await session.execute(
        delete(ReportPhoto).where(ReportPhoto.reporter_openid == openid, ReportPhoto.report_id.is_(None))
    )
    await session.execute(delete(Conversation).where(Conversation.openid == openid))
    await session.execute(delete(ReportPendingLocation).where(ReportPendingLocation.openid == openid))
    if not kept_open:  # an open case may still need to tell its reporter about progress
        await session.execute(delete(WechatUser).where(WechatUser.openid == openid))
        # Notices still waiting for the reporter (they never expire) and subscription grants name them too.
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.channel == "mp", OutboxMessage.recipient == openid, OutboxMessage.status != "sent"
            )
        )
        await session.execute(delete(SubscriptionGrant).where(SubscriptionGrant.openid == openid))
    request.status, request.handled_at, request.handled_by = "done", now, actor[:64]
    request.result = {
        "erased_cases": [r.case_no for r in erased],
        "open_cases": [r.case_no for r in kept_open],
        "loose_photos": loose_photos.rowcount or 0,
    }
    if not kept_open:
        request.openid = ""  # nothing left to do for this reporter: the request forgets them too
    await record_audit(
        session,
        actor=actor,
        action="privacy_erasure",
        now=now,
        ip=ip,
        detail={"request": f"P{request.id}", "erased_cases": len(erased), "open_cases": len(kept_open)},
    )
    return request
