"""What the console's case page shows of the case's notices: each attempt's route, time and result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.reports.notice_fates import DEPARTMENT_KEY
from storage import notice_deliveries as records
from storage.models import Department, OutboxMessage
from storage.models.reminders import Contact

KEY_KINDS = ("report-notice", "report-new", "report-transfer", "report-county")


@dataclass(frozen=True)
class NoticeLine:
    notice_key: str
    audience: str  # 举报人 / 部门
    recipient: str  # 举报人, or the department and the official's name
    route: str
    at: datetime
    result: str
    ok: bool | None  # True delivered, False failed, None still open


def result_label(result: str, reason: str) -> str:
    template = texts.NOTICE_RESULTS.get(result, result)
    return template.format(reason=reason or "-")


async def _recipients(session: AsyncSession, keys: set[str]) -> dict[str, str]:
    contact_ids = {int(m.group("contact")) for k in keys if (m := DEPARTMENT_KEY.match(k))}
    if not contact_ids:
        return {}
    rows = (
        await session.execute(
            select(Contact.id, Contact.name, Department.name)
            .join(Department, Department.id == Contact.department_id)
            .where(Contact.id.in_(contact_ids))
        )
    ).all()
    names = {cid: f"{dept} {name}".strip() for cid, name, dept in rows}
    out = {}
    for key in keys:
        match = DEPARTMENT_KEY.match(key)
        if match:
            out[key] = names.get(int(match.group("contact")), f"#{match.group('contact')}")
    return out


async def case_notices(session: AsyncSession, case_no: str) -> list[NoticeLine]:
    """Every attempt of every notice about ``case_no`` (to its reporter and to departments), oldest first;
    a notice not tried yet shows as 待发送."""
    prefixes = [f"{kind}:{case_no}:" for kind in KEY_KINDS]
    attempts = await records.deliveries_for(session, prefixes)
    tried = {a.outbox_id for a in attempts}
    prefixed = or_(*(OutboxMessage.dedup_key.like(records.like_prefix(p), escape="\\") for p in prefixes))
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending")), prefixed)
    )
    pending = [row for row in rows.all() if row.id not in tried]
    keys = {a.notice_key for a in attempts} | {row.dedup_key or "" for row in pending}
    names = await _recipients(session, keys)
    lines = [
        NoticeLine(
            notice_key=a.notice_key,
            audience=texts.NOTICE_AUDIENCES.get(a.audience, a.audience),
            recipient=names.get(a.notice_key, texts.NOTICE_AUDIENCES["reporter"]),
            route=texts.NOTICE_ROUTES.get(a.route, a.route),
            at=a.settled_at or a.attempted_at,
            result=result_label(a.result, a.reason),
            ok=True if a.result == records.DELIVERED else False if a.result == records.FAILED else None,
        )
        for a in attempts
    ]
    for row in pending:
        reporter = (row.dedup_key or "").startswith("report-notice:")
        audience = "reporter" if reporter else "department"
        lines.append(
            NoticeLine(
                notice_key=row.dedup_key or "",
                audience=texts.NOTICE_AUDIENCES[audience],
                recipient=names.get(row.dedup_key or "", texts.NOTICE_AUDIENCES["reporter"]),
                route="—",
                at=row.created_at,
                result=texts.NOTICE_PENDING,
                ok=None,
            )
        )
    return lines
