"""Recording that a department finished a task's occurrence (chat, console, command line alike, each in the
audit log), and the reminders a task's departments got."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import DEFAULT_TIMEZONE
from bot.tasks.schedule import current_occurrence, local_today, occurrences
from bot.tasks.status import TaskError
from storage.contacts import match_department_name
from storage.models import Department
from storage.models.reminders import Contact, ReminderDelivery, ReminderMessage, Task, TaskDepartment, TaskStatus
from storage.staff import record_audit


async def get_task(session: AsyncSession, task_id: str) -> Task | None:
    return await session.get(Task, (task_id or "").strip().upper())


@dataclass(frozen=True)
class DeliveryView:
    id: int
    task_id: str
    period: str
    department: str
    contact_id: int
    contact_name: str
    kind: str
    on_date: date
    status: str
    sent_at: datetime | None
    acknowledged_at: datetime | None
    message_key: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


async def deliveries_for_task(session: AsyncSession, task_id: str, *, limit: int = 1000) -> list[DeliveryView]:
    """Reminders planned for a task, newest first, with whether they were sent and acknowledged."""
    query = (
        select(ReminderDelivery, Department.name, Contact.name, ReminderMessage.key)
        .join(Department, Department.id == ReminderDelivery.department_id)
        .join(Contact, Contact.id == ReminderDelivery.contact_id)
        .outerjoin(ReminderMessage, ReminderMessage.id == ReminderDelivery.message_id)
        .where(ReminderDelivery.task_id == (task_id or "").strip().upper())
        .order_by(ReminderDelivery.on_date.desc(), ReminderDelivery.id.desc())
        .limit(limit)
    )
    return [
        DeliveryView(
            id=d.id,
            task_id=d.task_id,
            period=d.period,
            department=dept,
            contact_id=d.contact_id,
            contact_name=contact_name,
            kind=d.kind,
            on_date=d.on_date,
            status=d.status,
            sent_at=d.sent_at,
            acknowledged_at=d.acknowledged_at,
            message_key=key or "",
        )
        for d, dept, contact_name, key in (await session.execute(query)).all()
    ]


@dataclass(frozen=True)
class DoneResult:
    task_id: str
    title: str
    department: str
    period: str
    due_date: date
    already: bool  # it had been marked done before (nothing changed)


async def mark_done(
    session: AsyncSession,
    task_id: str,
    department: str,
    *,
    actor: str,
    now: datetime,
    via: str = "cli",
    period: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    ip: str = "",
) -> DoneResult:
    """Record that ``department`` finished the current occurrence of a task (or ``period``), with who
    and when, and write it to the audit log (whichever way it came: chat, console or command line).
    Raises ``TaskError`` (unknown task, department not assigned) or ``DepartmentError``."""
    task = await get_task(session, task_id)
    if task is None:
        raise TaskError(texts.TASK_ERRORS["unknown"].format(task_id=task_id))
    dept_rows = dict((await session.execute(select(Department.name, Department.id))).all())
    name = match_department_name(department, list(dept_rows))
    dept_id = dept_rows[name]
    role = await session.scalar(
        select(TaskDepartment.role).where(TaskDepartment.task_id == task.id, TaskDepartment.department_id == dept_id)
    )
    if role is None:
        raise TaskError(texts.TASK_ERRORS["not_assigned"].format(task_id=task.id, department=name))
    today = local_today(now, timezone)
    existing = {
        r.period: r
        for r in (
            await session.scalars(
                select(TaskStatus).where(TaskStatus.task_id == task.id, TaskStatus.department_id == dept_id)
            )
        ).all()
    }
    done_periods = [p for p, r in existing.items() if r.status == "done"]
    occs = occurrences(task, today)
    if period is None:
        occ = current_occurrence(task, today, done_periods)
        if occ is None:
            last = max((r for r in existing.values() if r.status == "done"), key=lambda r: r.period, default=None)
            occ = next((o for o in occs if last and o.period == last.period), occs[-1] if occs else None)
            if occ is None:
                raise TaskError(texts.TASK_ERRORS["no_deadline"].format(task_id=task.id))
            return DoneResult(task.id, task.title, name, occ.period, occ.due, already=True)
    else:
        occ = next((o for o in occs if o.period == period), None)
        if occ is None:
            raise TaskError(
                texts.TASK_ERRORS["no_period"].format(
                    task_id=task.id, period=period, choices="、".join(o.period for o in occs)
                )
            )
    row = existing.get(occ.period)
    if row is not None and row.status == "done":
        return DoneResult(task.id, task.title, name, occ.period, occ.due, already=True)
    if row is None:
        row = TaskStatus(task_id=task.id, department_id=dept_id, period=occ.period)
        session.add(row)
    row.status = "done"
    row.done_at = now
    row.done_by = actor[:128]
    row.done_via = via
    row.updated_at = now
    await record_audit(
        session,
        actor=actor,
        action="task_done",
        now=now,
        ip=ip,
        detail={"task": task.id, "department": name, "period": occ.period, "via": via},
    )
    await session.flush()
    return DoneResult(task.id, task.title, name, occ.period, occ.due, already=False)
