"""Extending a case's completion deadline: only while it is being handled, with a reason, within the
configured total (``[reports] max_extension_days``). The case's history records it as an internal note."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.cases.clock import ClockRules
from storage.models.cases import ReportExtension
from storage.models.reports import Report, ReportEvent

EXTENDABLE = frozenset({"accepted", "investigating"})
MAX_REASON_CHARS = 500


class ExtensionError(ValueError):
    """An extension the rules refuse; the message is fit to show to staff."""


async def extended_days(session: AsyncSession, report_id: int) -> int:
    stmt = select(func.coalesce(func.sum(ReportExtension.days), 0)).where(ReportExtension.report_id == report_id)
    return int(await session.scalar(stmt) or 0)


async def extensions_of(session: AsyncSession, report_id: int) -> list[ReportExtension]:
    stmt = select(ReportExtension).where(ReportExtension.report_id == report_id).order_by(ReportExtension.id)
    return list((await session.scalars(stmt)).all())


async def extend(
    session: AsyncSession,
    report: Report,
    rules: ClockRules,
    *,
    days_text: str,
    reason: str,
    actor: str,
    now: datetime,
) -> ReportExtension:
    """Record an extension of ``report``'s completion deadline (the caller commits)."""
    if report.status not in EXTENDABLE:
        raise ExtensionError(texts.CLOCK_EXTEND_NOT_OPEN)
    days_text = days_text.strip()
    if not days_text.isdigit() or not 1 <= int(days_text) <= 365:
        raise ExtensionError(texts.CLOCK_EXTEND_BAD_DAYS)
    days = int(days_text)
    reason = reason.strip()
    if not reason:
        raise ExtensionError(texts.CLOCK_EXTEND_NO_REASON)
    if len(reason) > MAX_REASON_CHARS:
        raise ExtensionError(texts.CLOCK_EXTEND_REASON_TOO_LONG.format(limit=MAX_REASON_CHARS))
    already = await extended_days(session, report.id)
    if already + days > rules.max_extension_days:
        raise ExtensionError(texts.CLOCK_EXTEND_TOO_LONG.format(limit=rules.max_extension_days, already=already))
    extension = ReportExtension(report_id=report.id, days=days, reason=reason, actor=actor[:64], at=now)
    session.add(extension)
    session.add(
        ReportEvent(
            report_id=report.id,
            at=now,
            actor=actor[:64],
            kind="extension",
            note=texts.CLOCK_EXTEND_EVENT.format(days=days, reason=reason),
            internal=True,
        )
    )
    report.updated_at = now
    await session.flush()
    return extension
