"""Sending reminder digests through the one outbox worker.

A digest is an outbox row of purpose ``reminder_digest`` keyed by the digest's key (``storage.outbox.enqueue``
refuses a second row with that key, and the key is also the message's client_msg_id, so a digest goes out
once however many dispatchers run). This module is what the worker does around such a row:

* **hold**: a digest waits for the sending window (working days, from ``send_hour``, outside the quiet
  hours) and is dropped when its contact is no longer active;
* **sent / dead**: the outcome is written to the digest and its deliveries;
* a recipient who no longer follows the account (43004) or whose address is invalid — any error code the
  channel refuses for good — is marked unreachable and the coordinator department is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.outbound.hooks import dead_errcode, refused, register_purpose
from bot.outbound.notify import notify_department
from bot.outbound.worker import OutboxWorker
from bot.reminders.ladder import Ladder
from bot.services import Services
from bot.wechat.typed_values import Value
from storage.contacts import mark_unreachable
from storage.models import Department, OutboxMessage
from storage.models.reminders import DIGEST_PURPOSE, Contact, ReminderDelivery, ReminderMessage

NOT_ACTIVE = "contact is not active"


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    unreachable: list[int] = field(default_factory=list)


class DigestRows:
    """The worker's ``Purpose`` for reminder digests (one per worker, built from its services)."""

    source = "reminder"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.ladder = Ladder.from_config(services.config.reminders)
        self.unreachable: list[int] = []  # contacts this worker found unreachable

    async def hold(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> datetime | str | None:
        status = await session.scalar(
            select(Contact.status)
            .join(ReminderMessage, ReminderMessage.contact_id == Contact.id)
            .where(ReminderMessage.key == row.dedup_key)
        )
        if status is not None and status != "active":
            return NOT_ACTIVE
        if not self.ladder.may_send(now):
            return self.ladder.next_send_time(now)
        return None

    async def sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        message_id = await self._settle(session, row, "sent", now)
        if message_id is not None:
            await session.execute(
                update(ReminderDelivery)
                .where(ReminderDelivery.message_id == message_id)
                .values(status="sent", sent_at=now)
            )

    async def dead(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        message_id = await self._settle(session, row, "dead", now)
        if message_id is None:
            return
        await session.execute(
            update(ReminderDelivery).where(ReminderDelivery.message_id == message_id).values(status="dead")
        )
        if not refused(row):
            return
        contact = await session.scalar(
            select(Contact).join(ReminderMessage, ReminderMessage.contact_id == Contact.id).where(
                ReminderMessage.id == message_id
            )
        )
        error = row.last_error.removeprefix("errcode ").replace(":", "", 1)
        if contact is not None and await mark_unreachable(session, contact.id, error, now=now):
            await self._tell_coordinator(session, contact, dead_errcode(row), now)
            self.unreachable.append(contact.id)

    @staticmethod
    async def _settle(session: AsyncSession, row: OutboxMessage, status: str, now: datetime) -> int | None:
        message = await session.scalar(select(ReminderMessage).where(ReminderMessage.key == row.dedup_key))
        if message is None:
            return None
        message.status = status
        if status == "sent":
            message.sent_at = now
        return message.id

    async def _tell_coordinator(
        self, session: AsyncSession, contact: Contact, errcode: int | None, now: datetime
    ) -> None:
        config = self.services.config
        dept = await session.get(Department, contact.department_id)
        reason = texts.UNREACHABLE_REASON_UNFOLLOWED if errcode == 43004 else texts.UNREACHABLE_REASON_INVALID
        moment = self.ladder.local(now)
        values = {
            "department": dept.name if dept else "",
            "name": contact.name or f"#{contact.id}",
            "reason": reason,
            "date": moment.strftime("%Y年%m月%d日"),
        }
        # The moment goes in as a datetime so that a time- or date-typed key gets the form WeChat requires.
        minute = moment.replace(second=0, microsecond=0)
        fields: dict[str, Value] = {
            label: minute if template == "{date}" else template.format(**values)
            for label, template in texts.UNREACHABLE_FIELDS.items()
        }
        await notify_department(
            session,
            self.services,
            department=config.reminders.coordinator_department,
            title=texts.UNREACHABLE_TITLE,
            fields=fields,
            detail=texts.UNREACHABLE_DETAIL.format(**values),
            url=config.server.public_base_url,
            dedup_key=f"reminders:unreachable:{contact.id}:{now:%Y%m%d}",
            now=now,
            purpose="reminders",
            kinds=("text", "time", "status", "unit"),
        )


register_purpose(DIGEST_PURPOSE, DigestRows)


async def send_due(services: Services, now: datetime) -> SendReport:
    """Send the due digests now, with the outbox worker (the scheduler's outbox job sends them as well)."""
    worker = OutboxWorker(services)
    report = SendReport()
    size = services.config.reminders.batch_size
    while True:
        handled = await worker.run(size, now=now, purposes=(DIGEST_PURPOSE,))
        for row in handled:
            if row.status == "sent":
                report.sent += 1
            elif row.status == "retry":
                report.retried += 1
            elif row.status == "dead":
                report.dead += 1
        if len(handled) < size:
            break
    purpose = worker.purposes.get(DIGEST_PURPOSE)
    if isinstance(purpose, DigestRows):
        report.unreachable = list(purpose.unreachable)
    return report
