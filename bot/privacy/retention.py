"""Retention: personal data is kept no longer than ``[privacy]`` says, by a daily housekeeping job.

A closed case (not submitted, accepted or investigating) keeps its record, history and description;
after the configured days it loses the reporter's identity (openid, name, phone), then its photos
(rows and files), and its exact position is rounded to about 1 km. Dialog state, records of handled
pushes, delivered outbox messages, stale pending locations and ended console sessions are deleted.
A case still open when its reporter asked for deletion loses the identity at the first run after it closes.
``purge(..., dry_run=True)`` counts what would change and changes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.catalog import OPEN_STATUSES
from bot.reports.photos import remove_if_unreferenced
from bot.services import Services
from storage.models import Conversation, OutboxMessage, ProcessedMessage
from storage.models.privacy import DataRequest, RevokedSession
from storage.models.reports import Report, ReportPendingLocation, ReportPhoto
from storage.staff import record_audit

COARSE_DECIMALS = 2  # about 1 km
# An expired dialog is kept a day so the user's next message can still say that it timed out.
EXPIRED_DIALOG_GRACE = timedelta(days=1)
SYSTEM_ACTOR = "system:housekeeping"


@dataclass
class PurgeResult:
    """What a purge changed (or, in a dry run, would change)."""

    dry_run: bool
    identities: list[str] = field(default_factory=list)  # case numbers
    photo_cases: list[str] = field(default_factory=list)
    photos: int = 0
    photo_files: int = 0
    locations: list[str] = field(default_factory=list)
    conversations: int = 0
    dedup_rows: int = 0
    outbox_rows: int = 0
    pending_locations: int = 0
    ended_sessions: int = 0

    @property
    def changed(self) -> bool:
        return any(v for k, v in asdict(self).items() if k != "dry_run")

    def counts(self) -> dict[str, int]:
        return {
            "identities": len(self.identities),
            "photo_cases": len(self.photo_cases),
            "photos": self.photos,
            "photo_files": self.photo_files,
            "locations": len(self.locations),
            "conversations": self.conversations,
            "dedup_rows": self.dedup_rows,
            "outbox_rows": self.outbox_rows,
            "pending_locations": self.pending_locations,
            "ended_sessions": self.ended_sessions,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "counts": self.counts()}


def _closed_before(cutoff: datetime) -> tuple[Any, ...]:
    return (Report.case_no.is_not(None), Report.status.not_in(list(OPEN_STATUSES)), Report.updated_at < cutoff)


async def _erase_requested(session: AsyncSession, now: datetime, result: PurgeResult, dry_run: bool) -> None:
    """Cases that were open when their reporter asked for deletion lose the identity once they close."""
    waiting = (
        await session.scalars(
            select(DataRequest).where(
                DataRequest.kind == "erasure", DataRequest.status == "done", DataRequest.openid != ""
            )
        )
    ).all()
    for request in waiting:
        open_cases = list((request.result or {}).get("open_cases") or [])
        reports = (await session.scalars(select(Report).where(Report.case_no.in_(open_cases)))).all()
        still_open = [r.case_no for r in reports if r.status in OPEN_STATUSES]
        for report in reports:
            closed = report.status not in OPEN_STATUSES
            if closed and report.identity_erased_at is None and report.case_no not in result.identities:
                result.identities.append(report.case_no or "")
                if not dry_run:
                    erase_identity(report, list(report.photos), now)
        if not dry_run and len(still_open) < len(open_cases):
            request.result = {**request.result, "open_cases": still_open}
            if not still_open:
                request.openid = ""


def erase_identity(report: Report, photos: list[ReportPhoto], now: datetime) -> None:
    """Mask who filed ``report``: openid, name and phone go; the case and its history stay."""
    report.reporter_openid = ""
    report.reporter_name = ""
    report.reporter_phone = ""
    report.identity_erased_at = now
    for photo in photos:
        photo.reporter_openid = ""


async def _count(session: AsyncSession, model: type, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _delete(session: AsyncSession, model: type, dry_run: bool, *where: Any) -> int:
    if dry_run:
        return await _count(session, model, *where)
    return (await session.execute(delete(model).where(*where))).rowcount or 0


async def purge(services: Services, *, dry_run: bool = False, actor: str = SYSTEM_ACTOR) -> PurgeResult:
    """Apply every ``[privacy]`` period once; in a dry run, report what would change."""
    cfg = services.config.privacy
    now = services.now()
    days = timedelta(days=1)
    result = PurgeResult(dry_run=dry_run)
    doomed_files: set[str] = set()
    async with services.database.session() as session:
        identity_cases = (
            await session.scalars(
                select(Report).where(
                    *_closed_before(now - cfg.closed_identity_days * days), Report.identity_erased_at.is_(None)
                )
            )
        ).all()
        for report in identity_cases:
            result.identities.append(report.case_no or "")
            if not dry_run:
                erase_identity(report, list(report.photos), now)

        await _erase_requested(session, now, result, dry_run)

        photo_cases = (
            await session.scalars(
                select(Report)
                .where(*_closed_before(now - cfg.closed_photo_days * days))
                .where(select(ReportPhoto.id).where(ReportPhoto.report_id == Report.id).exists())
            )
        ).all()
        for report in photo_cases:
            result.photo_cases.append(report.case_no or "")
            result.photos += len(report.photos)
            doomed_files.update(p.sha256 for p in report.photos if p.sha256)
        if not dry_run and photo_cases:
            await session.execute(delete(ReportPhoto).where(ReportPhoto.report_id.in_([r.id for r in photo_cases])))
        result.photo_files = len(doomed_files)

        pinned = (
            await session.scalars(
                select(Report).where(
                    *_closed_before(now - cfg.closed_location_days * days), Report.latitude.is_not(None)
                )
            )
        ).all()
        for report in pinned:
            assert report.latitude is not None and report.longitude is not None
            lat, lon = round(report.latitude, COARSE_DECIMALS), round(report.longitude, COARSE_DECIMALS)
            if (lat, lon) != (report.latitude, report.longitude):
                result.locations.append(report.case_no or "")
                if not dry_run:
                    report.latitude, report.longitude = lat, lon

        result.conversations = await _delete(
            session,
            Conversation,
            dry_run,
            or_(
                Conversation.updated_at < now - cfg.conversation_days * days,
                Conversation.expires_at < now - EXPIRED_DIALOG_GRACE,
            ),
        )
        result.dedup_rows = await _delete(
            session, ProcessedMessage, dry_run, ProcessedMessage.created_at < now - cfg.dedup_days * days
        )
        result.outbox_rows = await _delete(
            session,
            OutboxMessage,
            dry_run,
            OutboxMessage.status == "sent",
            OutboxMessage.sent_at < now - cfg.sent_outbox_days * days,
        )
        pending_cutoff = now - timedelta(minutes=services.config.reports.pending_attachment_minutes)
        result.pending_locations = await _delete(
            session, ReportPendingLocation, dry_run, ReportPendingLocation.received_at < pending_cutoff
        )
        result.ended_sessions = await _delete(session, RevokedSession, dry_run, RevokedSession.expires_at < now)
        if not dry_run and result.changed:
            await record_audit(session, actor=actor, action="privacy_purge", now=now, detail=result.counts())
        if not dry_run:
            await session.commit()
    if not dry_run:
        for sha in doomed_files:
            await remove_if_unreferenced(services, sha)
    return result
