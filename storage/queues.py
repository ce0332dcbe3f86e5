"""Queue depths for the status command and the metrics: outbox and reminder rows by state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.models.reminders import ReminderDelivery, ReminderMessage


@dataclass
class QueueDepths:
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, purpose) → rows
    oldest_pending: datetime | None = None
    reminder_messages: dict[str, int] = field(default_factory=dict)
    reminder_deliveries: dict[str, int] = field(default_factory=dict)

    def oldest_pending_age(self, now: datetime) -> float:
        """Seconds the oldest pending outbox row has waited (0 when none waits)."""
        return max(0.0, (now - self.oldest_pending).total_seconds()) if self.oldest_pending else 0.0


async def queue_depths(session: AsyncSession) -> QueueDepths:
    depths = QueueDepths()
    rows = await session.execute(
        select(OutboxMessage.status, OutboxMessage.purpose, func.count()).group_by(
            OutboxMessage.status, OutboxMessage.purpose
        )
    )
    depths.outbox = {(status, purpose or ""): int(n) for status, purpose, n in rows}
    depths.oldest_pending = await session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
    )
    for model, target in ((ReminderMessage, depths.reminder_messages), (ReminderDelivery, depths.reminder_deliveries)):
        for status, n in await session.execute(select(model.status, func.count()).group_by(model.status)):
            target[status] = int(n)
    return depths
