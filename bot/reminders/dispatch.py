"""Sending reminder digests: claim due messages, send them, settle the outcome with backoff; a pass runs
planning, batching and sending."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics, texts
from bot.config import Config
from bot.outbound.channels.base import ChannelError
from bot.outbound.notify import notify_department
from bot.reminders.coverage import warn_coordinator
from bot.reminders.digest import batch
from bot.reminders.ladder import Ladder
from bot.reminders.planner import PlanReport, plan
from bot.services import Services
from bot.wechat.typed_values import Value
from storage.contacts import mark_unreachable
from storage.db import Database
from storage.models import Department
from storage.models.reminders import (
    Contact,
    ReminderDelivery,
    ReminderMessage,
)

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    unreachable: list[int] = field(default_factory=list)


def _due_messages(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(ReminderMessage.status == "pending", ReminderMessage.next_attempt_at <= now),
        and_(ReminderMessage.status == "sending", ReminderMessage.claimed_until < now),
    )


@dataclass
class Claim:
    token: str
    messages: list[ReminderMessage]
    contact_status: dict[int, str]


async def claim(database: Database, config: Config, now: datetime, limit: int) -> Claim:
    """Take up to ``limit`` due messages for this dispatcher, with their contacts' current status."""
    token = secrets.token_hex(8)
    lease = now + timedelta(seconds=config.reminders.claim_seconds)
    async with database.session() as session:
        query = select(ReminderMessage.id).where(_due_messages(now)).order_by(ReminderMessage.id).limit(limit)
        if not database.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list((await session.scalars(query)).all())
        if not ids:
            return Claim(token, [], {})
        await session.execute(
            update(ReminderMessage)
            .where(ReminderMessage.id.in_(ids), _due_messages(now))
            .values(
                status="sending",
                claimed_until=lease,
                claim_token=token,
                attempts=ReminderMessage.attempts + 1,
            )
        )
        await session.commit()
        claimed = list(
            (
                await session.scalars(
                    select(ReminderMessage).where(ReminderMessage.claim_token == token).order_by(ReminderMessage.id)
                )
            ).all()
        )
        statuses = dict(
            (
                await session.execute(
                    select(Contact.id, Contact.status).where(Contact.id.in_({m.contact_id for m in claimed}))
                )
            ).all()
        )
        return Claim(token, claimed, statuses)


async def send_due(services: Services, now: datetime) -> SendReport:
    """Send every due message (inside the sending window); returns what happened."""
    config = services.config
    ladder = Ladder.from_config(config.reminders)
    report = SendReport()
    if not ladder.may_send(now):
        return report
    while True:
        claimed = await claim(services.database, config, now, config.reminders.batch_size)
        for message in claimed.messages:
            status = claimed.contact_status.get(message.contact_id, "removed")
            await _send_one(services, message, status, claimed.token, now, report)
        if len(claimed.messages) < config.reminders.batch_size:
            return report


async def _send_one(
    services: Services, message: ReminderMessage, contact_status: str, token: str, now: datetime, report: SendReport
) -> None:
    database = services.database
    if contact_status != "active":
        async with database.session() as session:
            await _settle(session, message, token, "dead", now, error="contact is not active")
            await session.commit()
        report.dead += 1
        return
    try:
        await _deliver(services, message)
    except ChannelError as exc:
        await _failed(services, message, token, exc, now, report)
        return
    except LookupError as exc:  # the channel is not configured (e.g. WeCom without credentials)
        await _failed(services, message, token, ChannelError(str(exc)), now, report)
        return
    metrics.delivery(message.channel, "reminder", "sent")
    async with database.session() as session:
        if await _settle(session, message, token, "sent", now):
            report.sent += 1
        await session.commit()


async def _deliver(services: Services, message: ReminderMessage) -> None:
    payload = message.payload
    channel = services.channel(message.channel)
    if message.channel == "wecom":
        data = {"title": payload["title"], "description": payload["description"]}
        await channel.send_template(message.recipient, "", data, url=payload.get("url"), client_msg_id=message.key)
        return
    if not payload.get("template_id"):
        raise ChannelError("[reminders] template_id is not configured", errcode=None, permanent=False)
    await channel.send_template(
        message.recipient, payload["template_id"], payload["data"], url=payload.get("url"), client_msg_id=message.key
    )


async def _settle(
    session: AsyncSession,
    message: ReminderMessage,
    token: str,
    status: str,
    now: datetime,
    *,
    error: str = "",
    next_attempt_at: datetime | None = None,
) -> bool:
    """Record the outcome of our claim; False when the claim was lost (another dispatcher took over)."""
    values: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error[:1000]}
    if status == "sent":
        values["sent_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = await session.execute(
        update(ReminderMessage)
        .where(
            ReminderMessage.id == message.id, ReminderMessage.claim_token == token, ReminderMessage.status == "sending"
        )
        .values(**values)
    )
    if not result.rowcount:
        return False
    if status in ("sent", "dead"):
        delivery_values: dict[str, Any] = {"status": status}
        if status == "sent":
            delivery_values["sent_at"] = now
        await session.execute(
            update(ReminderDelivery).where(ReminderDelivery.message_id == message.id).values(**delivery_values)
        )
    return True


def backoff(config: Config, attempts: int) -> timedelta:
    delay = timedelta(seconds=config.reminders.retry_base_seconds * 2 ** max(0, attempts - 1))
    return min(delay, MAX_BACKOFF)


async def _failed(
    services: Services,
    message: ReminderMessage,
    token: str,
    exc: ChannelError,
    now: datetime,
    report: SendReport,
) -> None:
    config = services.config
    error = f"{exc.errcode if exc.errcode is not None else ''} {exc}".strip()
    final = exc.permanent or message.attempts >= config.reminders.max_attempts
    metrics.delivery(message.channel, "reminder", "dead" if final else "retry", errcode=exc.errcode)
    async with services.database.session() as session:
        if exc.permanent:
            if await _settle(session, message, token, "dead", now, error=error):
                report.dead += 1
                if await mark_unreachable(session, message.contact_id, error, now=now):
                    report.unreachable.append(message.contact_id)
                    contact = await session.get(Contact, message.contact_id)
                    if contact is not None:
                        await _tell_coordinator(session, services, contact, exc, now)
        elif message.attempts >= config.reminders.max_attempts:
            if await _settle(session, message, token, "dead", now, error=f"gave up after {message.attempts}: {error}"):
                report.dead += 1
        elif await _settle(
            session,
            message,
            token,
            "pending",
            now,
            error=error,
            next_attempt_at=now + backoff(config, message.attempts),
        ):
            report.retried += 1
        await session.commit()
    log.warning("reminder %s to contact %s failed: %s", message.key, message.contact_id, error)


async def _tell_coordinator(
    session: AsyncSession, services: Services, contact: Contact, exc: ChannelError, now: datetime
) -> None:
    config = services.config
    dept = await session.get(Department, contact.department_id)
    reason = texts.UNREACHABLE_REASON_UNFOLLOWED if exc.errcode == 43004 else texts.UNREACHABLE_REASON_INVALID
    values = {
        "department": dept.name if dept else "",
        "name": contact.name or f"#{contact.id}",
        "reason": reason,
        "date": Ladder.from_config(config.reminders).local(now).strftime("%Y年%m月%d日"),
    }
    # The moment goes in as a datetime so that a time- or date-typed key gets the form WeChat requires.
    moment = Ladder.from_config(config.reminders).local(now).replace(second=0, microsecond=0)
    fields: dict[str, Value] = {
        label: moment if template == "{date}" else template.format(**values)
        for label, template in texts.UNREACHABLE_FIELDS.items()
    }
    await notify_department(
        session,
        services,
        department=config.reminders.coordinator_department,
        title=texts.UNREACHABLE_TITLE,
        fields=fields,
        detail=texts.UNREACHABLE_DETAIL.format(**values),
        url=config.server.public_base_url,
        dedup_key=f"reminders:unreachable:{contact.id}:{now:%Y%m%d}",
        now=now,
        purpose="reminders",
    )


@dataclass
class PassReport:
    plan: PlanReport
    messages: int
    send: SendReport
    window_open: bool
    calendar_notices: int = 0


async def run_pass(services: Services, now: datetime | None = None) -> PassReport:
    """Plan, batch and send as of ``now`` (default: the services' clock)."""
    now = now or services.now()
    planned = await plan(services.database, services.config, now)
    messages = await batch(services.database, services.config, now)
    sent = await send_due(services, now)
    metrics.reminder_pass(planned.planned, sent.sent, sent.dead)
    window = Ladder.from_config(services.config.reminders).may_send(now)
    return PassReport(planned, messages, sent, window, await warn_coordinator(services, now))
