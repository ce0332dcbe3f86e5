"""收到: a contact acknowledges the last reminder digest they were sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.reminders import (
    Contact,
    ReminderDelivery,
    ReminderMessage,
)


async def acknowledge_last(session: AsyncSession, contact: Contact, now: datetime) -> tuple[str, int]:
    """收到: mark the contact's most recent sent message (and its deliveries) acknowledged.

    Returns (outcome, deliveries): outcome is ``ok``, ``already`` or ``none``.
    """
    message = await session.scalar(
        select(ReminderMessage)
        .where(ReminderMessage.contact_id == contact.id, ReminderMessage.status == "sent")
        .order_by(ReminderMessage.sent_at.desc(), ReminderMessage.id.desc())
        .limit(1)
    )
    if message is None:
        return "none", 0
    if message.acknowledged_at is not None:
        return "already", 0
    message.acknowledged_at = now
    result = await session.execute(
        update(ReminderDelivery)
        .where(ReminderDelivery.message_id == message.id, ReminderDelivery.acknowledged_at.is_(None))
        .values(acknowledged_at=now)
    )
    return "ok", int(result.rowcount or 0)
