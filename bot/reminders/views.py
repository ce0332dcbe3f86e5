"""What the reminder commands show: the coming days' plan (preview) and the messages sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.reminders.ladder import Ladder
from bot.reminders.planner import load_snapshot, rungs_for_day
from bot.tasks import workdays
from storage.db import Database
from storage.models import Department, OutboxMessage
from storage.models.reminders import (
    Contact,
    ReminderDelivery,
    ReminderMessage,
)


@dataclass(frozen=True)
class PreviewLine:
    day: date
    department: str
    contact_id: int
    contact_name: str
    task_id: str
    kind: str
    due_date: date | None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


async def preview(database: Database, config: Config, now: datetime, days: int) -> list[PreviewLine]:
    """The reminders the ladder would plan on the next ``days`` calendar days (today included), as things
    stand now; nothing is written."""
    ladder = Ladder.from_config(config.reminders)
    today = ladder.today(now)
    async with database.session() as session:
        snap = await load_snapshot(session, config)
        names = dict((await session.execute(select(Contact.id, Contact.name))).all())
    lines: list[PreviewLine] = []
    for i in range(days):
        day = today + timedelta(days=i)
        if not workdays.is_working_day(day):
            continue
        for row in rungs_for_day(snap, ladder, day, now):
            lines.append(
                PreviewLine(
                    day=day,
                    department=snap.dept_names.get(row["department_id"], ""),
                    contact_id=row["contact_id"],
                    contact_name=names.get(row["contact_id"], ""),
                    task_id=row["task_id"],
                    kind=row["kind"],
                    due_date=row["due_date"],
                )
            )
    return lines


@dataclass(frozen=True)
class MessageView:
    id: int
    key: str
    contact_id: int
    department: str
    contact_name: str
    channel: str
    status: str
    attempts: int
    deliveries: int
    created_at: datetime
    sent_at: datetime | None
    acknowledged_at: datetime | None
    last_error: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


async def list_messages(session: AsyncSession, *, status: str | None = None, limit: int = 100) -> list[MessageView]:
    counts = (
        select(ReminderDelivery.message_id, func.count().label("n"))
        .where(ReminderDelivery.message_id.is_not(None))
        .group_by(ReminderDelivery.message_id)
        .subquery()
    )
    query = (
        select(ReminderMessage, Contact.name, Department.name, counts.c.n, OutboxMessage.attempts,
               OutboxMessage.last_error)
        .join(Contact, Contact.id == ReminderMessage.contact_id)
        .join(Department, Department.id == Contact.department_id)
        .outerjoin(counts, counts.c.message_id == ReminderMessage.id)
        .outerjoin(OutboxMessage, OutboxMessage.dedup_key == ReminderMessage.key)  # the row that sends it
        .order_by(ReminderMessage.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(ReminderMessage.status == status)
    return [
        MessageView(
            id=m.id,
            key=m.key,
            contact_id=m.contact_id,
            department=dept,
            contact_name=name,
            channel=m.channel,
            status=m.status,
            attempts=int(attempts or 0),
            deliveries=int(n or 0),
            created_at=m.created_at,
            sent_at=m.sent_at,
            acknowledged_at=m.acknowledged_at,
            last_error=error or "",
        )
        for m, name, dept, n, attempts, error in (await session.execute(query)).all()
    ]


def summarize(items: Iterable[PreviewLine]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for item in items:
        out[item.kind.split("-")[0]] += 1
    return dict(out)
