"""Delivery records of notices (one per attempt), subscription grants and case-page paths."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.models.notices import CasePage, NoticeDelivery, SubscriptionGrant

SENDING = "sending"
ACCEPTED = "accepted"
DELIVERED = "delivered"
FAILED = "failed"
WAITING = "waiting"
UNCERTAIN = "uncertain"
REASON_MAX = 500


async def start_attempt(
    session: AsyncSession, *, outbox_id: int, notice_key: str, audience: str, route: str, now: datetime,
    result: str = SENDING, reason: str = "",
) -> NoticeDelivery:
    """A new attempt, ``sending`` unless told otherwise; the caller commits it before calling WeChat."""
    record = NoticeDelivery(
        outbox_id=outbox_id,
        notice_key=notice_key,
        audience=audience,
        route=route,
        attempted_at=now,
        result=result,
        reason=reason[:REASON_MAX],
        msg_id="",
        settled_at=None if result == SENDING else now,
    )
    session.add(record)
    await session.flush()
    return record


async def settle(
    session: AsyncSession, record_id: int, result: str, now: datetime, *, reason: str = "", msg_id: str = ""
) -> None:
    values: dict[str, object] = {"result": result, "reason": reason[:REASON_MAX], "settled_at": now}
    if msg_id:
        values["msg_id"] = msg_id[:64]
    await session.execute(update(NoticeDelivery).where(NoticeDelivery.id == record_id).values(**values))


async def attempts_of(session: AsyncSession, outbox_id: int) -> list[NoticeDelivery]:
    return list(
        (
            await session.scalars(
                select(NoticeDelivery).where(NoticeDelivery.outbox_id == outbox_id).order_by(NoticeDelivery.id)
            )
        ).all()
    )


EARLY_FATE = "fate"  # route of a result that arrived before its send was recorded as accepted


async def record_fate(
    session: AsyncSession, msg_id: str, delivered: bool, reason: str, now: datetime
) -> NoticeDelivery | None:
    """WeChat's pushed fate of an accepted template or subscription message; returns the record it settles.

    A result can overtake the sender's own bookkeeping (the push arrives before the attempt is stored with
    its msg_id): it is kept as an early fate, which ``take_early_fate`` applies once the attempt is stored.
    """
    if not msg_id:
        return None
    record = await session.scalar(
        select(NoticeDelivery)
        .where(NoticeDelivery.msg_id == msg_id, NoticeDelivery.result == ACCEPTED, NoticeDelivery.route != EARLY_FATE)
        .order_by(NoticeDelivery.id.desc())
        .limit(1)
    )
    if record is None:
        early = await start_attempt(
            session, outbox_id=0, notice_key="", audience="", route=EARLY_FATE, now=now,
            result=DELIVERED if delivered else FAILED, reason=reason,
        )
        early.msg_id = msg_id[:64]
        return None
    record.result = DELIVERED if delivered else FAILED
    record.reason = "" if delivered else reason[:REASON_MAX]
    record.settled_at = now
    return record


async def take_early_fate(session: AsyncSession, record: NoticeDelivery) -> bool:
    """Apply a result that arrived before ``record`` (just accepted, with its msg_id) was stored."""
    if record.result != ACCEPTED or not record.msg_id:
        return False
    early = await session.scalar(
        select(NoticeDelivery)
        .where(NoticeDelivery.route == EARLY_FATE, NoticeDelivery.msg_id == record.msg_id)
        .order_by(NoticeDelivery.id)
        .limit(1)
    )
    if early is None:
        return False
    record.result, record.reason, record.settled_at = early.result, early.reason, early.settled_at
    await session.delete(early)
    return True


def like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def deliveries_for(session: AsyncSession, prefixes: Sequence[str]) -> list[NoticeDelivery]:
    """The records of every notice whose key starts with one of ``prefixes``, oldest first."""
    if not prefixes:
        return []
    match = or_(*(NoticeDelivery.notice_key.like(like_prefix(p), escape="\\") for p in prefixes))
    return list((await session.scalars(select(NoticeDelivery).where(match).order_by(NoticeDelivery.id))).all())


# ---- subscription grants ------------------------------------------------------------------------------


async def store_grant(
    session: AsyncSession, openid: str, template_id: str, accepted: bool, scene: str, now: datetime
) -> None:
    session.add(
        SubscriptionGrant(
            openid=openid, template_id=template_id[:128], accepted=accepted, scene=scene[:16], created_at=now
        )
    )


async def holds_grant(session: AsyncSession, openid: str, template_id: str) -> bool:
    """The user's latest choice for the template was to accept, and that grant is unused."""
    latest = await session.scalar(
        select(SubscriptionGrant)
        .where(SubscriptionGrant.openid == openid, SubscriptionGrant.template_id == template_id)
        .order_by(SubscriptionGrant.id.desc())
        .limit(1)
    )
    return latest is not None and latest.accepted and latest.used_at is None


async def use_grant(session: AsyncSession, openid: str, template_id: str, now: datetime) -> bool:
    """Use up the user's oldest unused accepted grant (one send per one-time grant); False when none."""
    grant_id = await session.scalar(
        select(SubscriptionGrant.id)
        .where(
            SubscriptionGrant.openid == openid,
            SubscriptionGrant.template_id == template_id,
            SubscriptionGrant.accepted.is_(True),
            SubscriptionGrant.used_at.is_(None),
        )
        .order_by(SubscriptionGrant.id)
        .limit(1)
    )
    if grant_id is None:
        return False
    result = await session.execute(
        update(SubscriptionGrant)
        .where(SubscriptionGrant.id == grant_id, SubscriptionGrant.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(result.rowcount)


# ---- case pages -----------------------------------------------------------------------------------------


async def case_page_token(session: AsyncSession, case_no: str, now: datetime) -> str:
    """The case's page token, made (256 random bits) on first use."""
    token = await session.scalar(select(CasePage.token).where(CasePage.case_no == case_no))
    if token:
        return token
    token = secrets.token_urlsafe(32)
    session.add(CasePage(case_no=case_no, token=token, created_at=now))
    await session.flush()
    return token


async def case_of_page(session: AsyncSession, token: str) -> str | None:
    return await session.scalar(select(CasePage.case_no).where(CasePage.token == token))


async def record_sent_row(
    session: AsyncSession, row: OutboxMessage, status: str, error: str, msg_id: str, now: datetime
) -> NoticeDelivery:
    """The attempt the outbox worker just made with a template/textcard row (a notice to a department)."""
    fate_pushed = bool(msg_id) and row.channel == "mp"  # WeChat pushes a template's fate later
    result = {"sent": ACCEPTED if fate_pushed else DELIVERED, "dead": FAILED}.get(status, FAILED)
    if status == "retry":
        error = f"{error} (will retry)"
    record = await start_attempt(
        session,
        outbox_id=row.id,
        notice_key=row.dedup_key or f"outbox-{row.id}",
        audience="department",
        # a channel-neutral notice goes out as a template message on the 公众号 and as a card on WeCom
        route=("template" if row.kind in ("notice", "template") else row.kind) if row.channel == "mp" else "textcard",
        now=now,
        result=result,
        reason="" if status == "sent" else error,
    )
    record.msg_id = msg_id[:64]
    return record
