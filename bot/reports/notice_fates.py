"""What WeChat reports about notices after accepting them, and the subscription grants users make.

* ``TEMPLATESENDJOBFINISH`` (Status ``success`` / ``failed:user block`` / ``failed: system failed``) and
  ``subscribe_msg_sent_event`` (ErrorCode per message) settle the delivery record of the message they name.
  A reporter's notice that failed so goes back to waiting for the reporter's next message; a department's
  alerts the coordinator department.
* ``subscribe_msg_popup_event`` (the case page's ``<wx-open-subscribe>``): each choice is stored as a grant.
* ``dead_notice_hook``: a department notice the outbox gave up on (43004, 47003 …) alerts the coordinator.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.outbound.fates import FateHook, run_failed_hooks
from bot.outbound.notify import notify_department
from bot.outbound.routes import ROUTE_WAIT
from bot.outbound.worker import dead_errcode
from bot.reports.catalog import local_zone
from bot.services import Services
from bot.wechat.typed_values import Value
from storage import notice_deliveries as records
from storage.models import Department, NoticeDelivery, OutboxMessage
from storage.models.reminders import Contact

log = logging.getLogger(__name__)

ALERT_PURPOSE = "notice_alert"  # never alerts about itself
DEPARTMENT_KEY = re.compile(r"^report-(?:new|transfer|county):(?P<subject>[^:]+):.*:c(?P<contact>\d+)$")


def _entries(raw: dict[str, Any], outer: str) -> list[dict[str, Any]]:
    """``<Outer><List>…</List><List>…</List></Outer>`` as a list of dicts (xmltodict gives one or a list)."""
    block = raw.get(outer)
    items = block.get("List") if isinstance(block, dict) else None
    if isinstance(items, dict):
        return [items]
    return [item for item in items or [] if isinstance(item, dict)]


async def template_finished(session: AsyncSession, services: Services, raw: dict[str, Any], now: datetime) -> None:
    status = str(raw.get("Status") or "")
    await _settle(session, services, str(raw.get("MsgID") or ""), status == "success", status, now)


async def subscriptions_sent(session: AsyncSession, services: Services, raw: dict[str, Any], now: datetime) -> None:
    for entry in _entries(raw, "SubscribeMsgSentEvent"):
        code = str(entry.get("ErrorCode") or "0")
        reason = f"errcode {code}: {entry.get('ErrorStatus') or ''}".strip()
        await _settle(session, services, str(entry.get("MsgID") or ""), code == "0", reason, now)


async def _settle(
    session: AsyncSession, services: Services, msg_id: str, delivered: bool, reason: str, now: datetime
) -> None:
    record = await records.record_fate(session, msg_id, delivered, reason, now)
    if record is None:  # kept as an early fate until the sender stores the attempt (bot.outbound.fates)
        log.info("delivery result for message %s matches no accepted delivery record yet", msg_id or "-")
        return
    if not delivered:
        await run_failed_hooks(session, record)


def failed_fate_hook(services: Services) -> FateHook:
    """What a failed result means (register with ``on_failed_fate``): a reporter's notice goes back to
    waiting for the reporter's next message (or 查询); a department's alerts the coordinator department."""

    async def hook(session: AsyncSession, record: NoticeDelivery) -> None:
        now = services.now()
        if record.audience == "reporter":
            woke = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == record.outbox_id, OutboxMessage.status == "sent")
                .values(status="waiting", claimed_until=None)
            )
            if woke.rowcount:
                await records.start_attempt(
                    session,
                    outbox_id=record.outbox_id,
                    notice_key=record.notice_key,
                    audience=record.audience,
                    route=ROUTE_WAIT,
                    now=now,
                    result=records.WAITING,
                )
            return
        reason = texts.NOTICE_DEAD_BLOCKED if "block" in record.reason else record.reason
        await alert_coordinator(session, services, record.notice_key, reason, now)

    return hook


async def store_grants(session: AsyncSession, openid: str, raw: dict[str, Any], now: datetime) -> int:
    """Each template the user accepted or rejected in the subscription popup; returns how many."""
    count = 0
    for entry in _entries(raw, "SubscribeMsgPopupEvent"):
        template_id = str(entry.get("TemplateId") or "")
        if not template_id:
            continue
        accepted = str(entry.get("SubscribeStatusString") or "") == "accept"
        await records.store_grant(session, openid, template_id, accepted, str(entry.get("PopupScene") or ""), now)
        count += 1
    return count


async def alert_coordinator(
    session: AsyncSession, services: Services, notice_key: str, reason: str, now: datetime
) -> int:
    """Tell the coordinator department that a department's official did not get a case notice."""
    match = DEPARTMENT_KEY.match(notice_key)
    if match is None:
        return 0
    contact = await session.get(Contact, int(match.group("contact")))
    department = await session.get(Department, contact.department_id) if contact is not None else None
    values = {
        "case_no": match.group("subject"),
        "name": (contact.name if contact is not None else "") or f"#{match.group('contact')}",
        "department": department.name if department is not None else "",
        "reason": reason,
    }
    moment = now.astimezone(local_zone(services)).replace(second=0, microsecond=0)
    fields: dict[str, Value] = {
        label: moment if template == "{date}" else template.format(**values)
        for label, template in texts.NOTICE_DEAD_FIELDS.items()
    }
    return await notify_department(
        session,
        services,
        department=services.config.reminders.coordinator_department,
        title=texts.NOTICE_DEAD_TITLE,
        fields=fields,
        detail=texts.NOTICE_DEAD_DETAIL.format(**values),
        url=services.config.server.public_base_url,
        dedup_key=f"notice-dead:{notice_key}"[:200],
        now=now,
        purpose=ALERT_PURPOSE,
    )


def dead_notice_hook(services: Services) -> Callable[[AsyncSession, OutboxMessage], Awaitable[None]]:
    """The outbox's hook for dead ``notice`` rows (register with ``on_dead("notice", …)``)."""

    async def hook(session: AsyncSession, row: OutboxMessage) -> None:
        errcode = dead_errcode(row)
        reason = texts.NOTICE_DEAD_REASONS.get(errcode or 0, texts.NOTICE_DEAD_OTHER)
        await alert_coordinator(session, services, row.dedup_key or "", reason, services.now())

    return hook

