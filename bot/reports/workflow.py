"""A case's life after filing, shared by the staff console and the CLI.

Every function writes through the caller's session and never commits. Functions that change a report
record a history row (who, when, notes) and enqueue the notifications in the same transaction. Filing is
``bot.reports.filing``, the JSON shape ``bot.reports.present``, reading rows ``storage.report_queries``.

- ``change_status``: the state machine below; notifies the reporter (and the reporters of linked
  duplicates) through the outbox (channel ``mp``, purpose ``report_update``).
- ``transfer`` / ``set_county``: re-route; notify the new unit.
- ``add_internal_note``: a staff note the reporter never sees.

States::

    submitted ──> accepted ──> investigating ──> resolved ──> closed
        │  │                        ^                │
        │  └──> duplicate ──> accepted / closed     └──> investigating (reopened)
        └──> rejected ──> closed
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.reports import geo
from bot.reports.catalog import (
    STATUSES,
    TRANSITIONS,
)
from bot.reports.notices import notify_reporters, notify_unit
from storage.models import Department, Report, ReportEvent
from storage.report_queries import get_report, get_report_for_update

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


MAX_NOTE_CHARS = 2000
MAX_ACTOR_CHARS = 64
SYSTEM_ACTOR = "system"
REPORTER_ACTOR = "reporter"


class ReportError(ValueError):
    """A request the reports API refuses; the message (Chinese) is fit to show to staff."""


# ---- helpers -------------------------------------------------------------------------------------


def _check_actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise ReportError(texts.REPORT_ERR_ACTOR)
    return actor[:MAX_ACTOR_CHARS]


def _check_len(value: str, field: str, limit: int = MAX_NOTE_CHARS) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ReportError(texts.REPORT_ERR_TOO_LONG.format(field=field, max=limit))
    return value


def record_event(report: Report, *, actor: str, kind: str, now: datetime, **fields: Any) -> ReportEvent:
    event = ReportEvent(actor=actor, kind=kind, at=now, **fields)
    report.events.append(event)
    return event


# ---- reading -------------------------------------------------------------------------------------


# ---- filing --------------------------------------------------------------------------------------


# ---- notifications -------------------------------------------------------------------------------


# ---- staff actions -------------------------------------------------------------------------------


async def change_status(
    session: AsyncSession,
    services: Services,
    case_no: str,
    new_status: str,
    *,
    actor: str,
    note: str = "",
    public_reply: str = "",
    reason: str = "",
    competent_authority: str = "",
    duplicate_of: str | None = None,
    may_link: Callable[[Report], bool] | None = None,
    public_summary: str | None = None,
    now: datetime,
) -> Report:
    """Move a report along the state machine and tell the reporter.

    ``may_link`` (the console passes the actor's visibility) limits which cases a duplicate may point to:
    a case the actor cannot see is refused with the same message as a case that does not exist.
    ``public_summary`` (on acceptance) is what Open311 publishes; without one the case is not published.

    Required by target: ``rejected`` — ``reason`` and ``competent_authority``; ``duplicate`` —
    ``duplicate_of`` (another existing case); ``resolved`` — ``note`` (the handling result) and
    ``public_reply``. Raises ``ReportError`` with a message fit for staff, or ``ReportNotFound`` (a storage fact).
    """
    actor = _check_actor(actor)
    note = _check_len(note, "note")
    public_reply = _check_len(public_reply, "public_reply")
    reason = _check_len(reason, "reason")
    competent_authority = _check_len(competent_authority, "competent_authority", 128)
    summary = None if public_summary is None else _check_len(public_summary, "public_summary")
    if new_status not in STATUSES:
        raise ReportError(texts.REPORT_ERR_STATUS.format(status=new_status, known=", ".join(STATUSES)))
    report = await get_report_for_update(session, case_no)
    old = report.status
    allowed = TRANSITIONS[old]
    if new_status not in allowed:
        raise ReportError(
            texts.REPORT_ERR_TRANSITION.format(old=old, new=new_status, allowed=", ".join(sorted(allowed)) or "—")
        )
    original: Report | None = None
    if new_status == "rejected" and not (reason and competent_authority):
        raise ReportError(texts.REPORT_ERR_REASON)
    if new_status == "resolved" and not (note and public_reply):
        raise ReportError(texts.REPORT_ERR_RESOLVED)
    if new_status == "duplicate":
        original = await get_report(session, duplicate_of or "")
        if original is None or original.id == report.id or (may_link is not None and not may_link(original)):
            raise ReportError(texts.REPORT_ERR_DUPLICATE_OF)
        # Link to the root case, never to another duplicate (nor past a case the actor cannot see).
        while original.duplicate_of and original.status == "duplicate":
            root = await get_report(session, original.duplicate_of)
            if root is None or root.id == report.id or (may_link is not None and not may_link(root)):
                break
            original = root

    report.status = new_status
    report.updated_at = now
    if new_status == "rejected":
        report.reject_reason, report.competent_authority = reason, competent_authority
    if new_status == "resolved":
        report.result = note
    if new_status == "duplicate" and original is not None:
        report.duplicate_of = original.case_no
    if old == "duplicate" and new_status == "accepted":
        report.duplicate_of = None
    if public_reply:
        report.public_reply = public_reply
    if summary is not None and new_status == "accepted":
        report.public_summary = summary
    event = record_event(
        report,
        actor=actor,
        kind="status",
        now=now,
        from_status=old,
        to_status=new_status,
        note=note if new_status != "rejected" else (note or reason),
        public_reply=public_reply,
    )
    await session.flush()
    await notify_reporters(session, services, report, event, public_reply, now=now)
    return report


async def transfer(
    session: AsyncSession, services: Services, case_no: str, department: str, *, actor: str, note: str, now: datetime
) -> Report:
    """Hand the report to another department (any unit in ``departments``) and notify its officials."""
    actor = _check_actor(actor)
    note = _check_len(note, "note")
    known = await session.scalar(select(Department.id).where(Department.name == department))
    if known is None:
        raise ReportError(texts.REPORT_ERR_DEPARTMENT.format(department=department))
    report = await get_report_for_update(session, case_no)
    old = report.department
    report.department = department
    report.updated_at = now
    event = record_event(
        report, actor=actor, kind="transfer", now=now, note=f"{old} → {department}: {note}".rstrip(": "), internal=True
    )
    await session.flush()
    await notify_unit(
        session,
        services,
        report,
        department,
        title=texts.REPORT_DEPT_TRANSFER_TITLE,
        key=f"report-transfer:{report.case_no}:{event.id}",
        now=now,
    )
    return report


async def set_county(
    session: AsyncSession,
    services: Services,
    case_no: str,
    county: str,
    *,
    actor: str,
    note: str = "",
    now: datetime,
) -> Report:
    """Route a report to a county-level unit by hand (e.g. one awaiting manual routing)."""
    actor = _check_actor(actor)
    note = _check_len(note, "note")
    targets = geo.routing_targets()
    if county not in targets:
        raise ReportError(texts.REPORT_ERR_COUNTY.format(county=county, known=", ".join(targets)))
    report = await get_report_for_update(session, case_no)
    old = report.county or "—"
    report.county = county
    report.county_method = "staff"
    report.needs_manual_routing = False
    report.updated_at = now
    event = record_event(
        report, actor=actor, kind="county", now=now, note=f"{old} → {county}: {note}".rstrip(": "), internal=True
    )
    await session.flush()
    await notify_unit(
        session,
        services,
        report,
        geo.county_government(county),
        title=texts.REPORT_DEPT_TRANSFER_TITLE,
        key=f"report-county:{report.case_no}:{event.id}",
        now=now,
    )
    return report


async def add_internal_note(
    session: AsyncSession, case_no: str, note: str, *, actor: str, now: datetime
) -> ReportEvent:
    """A staff note in the history; never shown to the reporter."""
    actor = _check_actor(actor)
    note = _check_len(note, "note")
    if not note:
        raise ReportError(texts.REPORT_ERR_NOTE)
    report = await get_report_for_update(session, case_no)
    report.updated_at = now
    event = record_event(report, actor=actor, kind="note", now=now, note=note, internal=True)
    await session.flush()
    return event


# ---- photos of drafts ----------------------------------------------------------------------------


# ---- output --------------------------------------------------------------------------------------


__all__ = [
    "MAX_NOTE_CHARS",
    "ReportError",
    "add_internal_note",
    "change_status",
    "set_county",
    "transfer",
]
