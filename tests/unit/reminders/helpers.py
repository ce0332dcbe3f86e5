"""Building tasks and contacts for the reminder tests."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.tasks.planfile import import_tasks, parse_tasks_text
from storage.contacts import resolve_department
from storage.db import Database
from storage.models import Department
from storage.models.reminders import Contact, ContactAddress

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment given in Shanghai time, as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def task_toml(
    task_id: str,
    *,
    lead: str = "市生态环境局",
    deadline: str | None = "2025-12-31",
    due: str | None = None,
    co: tuple[str, ...] = (),
    local: str = "none",
    rule: str = "last_working_day",
    title: str | None = None,
) -> str:
    lines = [
        "[[task]]",
        f'id = "{task_id}"',
        f'title = "{title or "任务" + task_id}"',
        f'citation = "二（二）{task_id[-1]}"',
        f'lead_unit = "{lead}"',
        "lead_named = true",
        "co_units = [" + ", ".join(f'"{c}"' for c in co) + "]",
        f'local_units = "{local}"' if local in ("all", "none") else f"local_units = {local}",
        f'deadline_rule = "{rule}"',
    ]
    if due:
        lines += ['recurrence = "yearly"', f'due = "{due}"', "first_year = 2023"]
    else:
        lines.append(f"deadline = {deadline}")
    return "\n".join(lines) + "\n"


async def load_tasks(db: Database, text: str, now: datetime) -> None:
    async with db.session() as session:
        rows = (await session.execute(select(Department.name, Department.kind).order_by(Department.id))).all()
        names = [n for n, _ in rows]
        local = [n for n, k in rows if k in ("county", "zone")]
        specs = parse_tasks_text(text, "test.toml", names, local)
        await import_tasks(session, specs, source="test.toml", now=now)
        await session.commit()


async def add_contact(
    db: Database, department: str, openid: str, *, name: str = "", now: datetime, userid: str | None = None
) -> int:
    async with db.session() as session:
        dept = await resolve_department(session, department)
        channel = "wecom" if userid else "mp"
        contact = Contact(
            department_id=dept.id,
            name=name,
            channel=channel,
            status="active",
            created_at=now,
            bound_at=now,
            updated_at=now,
        )
        session.add(contact)
        await session.flush()
        session.add(ContactAddress(contact_id=contact.id, channel=channel, address=userid or openid, created_at=now))
        await session.commit()
        return contact.id
