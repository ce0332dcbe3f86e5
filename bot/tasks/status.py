"""Where the plan's tasks stand: per-department status, the views chat, CLI and console show, marking done.

The plan file is ``bot.tasks.planfile``; occurrences and due dates are ``bot.tasks.schedule``.

A task is due once (``deadline``) or every year (``recurrence = "yearly"``, ``due = "MM-DD"``). The
effective due date of an occurrence is a working day: "by 2023-12-31" means the last working day on or
before it (2023-12-29); a task may instead say ``deadline_rule = "next_working_day"`` (a deadline that
falls on a holiday extends to the next working day). Each assigned department has its own status per
occurrence (``period``: ``once`` or the year).

Queries for the staff console: ``list_tasks`` (overdue first), ``deliveries_for_task``, ``mark_done``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import DEFAULT_TIMEZONE
from bot.tasks import workdays
from bot.tasks.schedule import ONCE, current_occurrence, local_today, occurrences
from storage.contacts import match_department_name
from storage.models import Department
from storage.models.reminders import Contact, ReminderDelivery, ReminderMessage, Task, TaskDepartment, TaskStatus

ROLES = ("lead", "co", "local")


class TaskError(ValueError):
    """An operation on a task that cannot be done (unknown task, not assigned, already done)."""


# ---- the data file ---------------------------------------------------------------------------


# ---- occurrences -----------------------------------------------------------------------------


# ---- views for chat, CLI and the console -------------------------------------------------------


@dataclass(frozen=True)
class DepartmentStatus:
    department: str
    role: str  # lead | co | local
    status: str  # open | overdue | done
    period: str
    due_date: date | None
    done_at: datetime | None = None
    done_by: str = ""


@dataclass(frozen=True)
class TaskView:
    """A task as of one day. With a department filter, ``status``/``period``/``due_date`` are that
    department's; otherwise the task's: overdue if any department is overdue, done if all are done."""

    id: str
    citation: str
    title: str
    deliverable: str
    lead_unit: str
    co_units: list[str]
    local_units: list[str]
    recurrence: str  # once | yearly
    deadline_text: str
    deadline_basis: str
    period: str
    nominal_deadline: date | None
    due_date: date | None
    status: str  # open | overdue | done
    overdue_working_days: int
    working_days_left: int
    departments: list[DepartmentStatus] = field(default_factory=list)
    reminders_sent: int = 0
    reminders_acknowledged: int = 0
    active: bool = True

    @property
    def open_count(self) -> int:
        return sum(1 for d in self.departments if d.status != "done")

    @property
    def done_count(self) -> int:
        return sum(1 for d in self.departments if d.status == "done")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "citation": self.citation,
            "title": self.title,
            "deliverable": self.deliverable,
            "lead_unit": self.lead_unit,
            "co_units": self.co_units,
            "local_units": self.local_units,
            "recurrence": self.recurrence,
            "deadline_text": self.deadline_text,
            "deadline_basis": self.deadline_basis,
            "period": self.period,
            "nominal_deadline": self.nominal_deadline,
            "due_date": self.due_date,
            "status": self.status,
            "overdue_working_days": self.overdue_working_days,
            "working_days_left": self.working_days_left,
            "open_departments": self.open_count,
            "done_departments": self.done_count,
            "reminders_sent": self.reminders_sent,
            "reminders_acknowledged": self.reminders_acknowledged,
            "active": self.active,
            "departments": [
                {
                    "department": d.department,
                    "role": d.role,
                    "status": d.status,
                    "period": d.period,
                    "due_date": d.due_date,
                    "done_at": d.done_at,
                    "done_by": d.done_by,
                }
                for d in self.departments
            ],
        }


_STATUS_ORDER = {"overdue": 0, "open": 1, "done": 2}


async def _status_rows(session: AsyncSession, task_ids: list[str] | None = None) -> dict[tuple[str, int], dict]:
    query = select(TaskStatus).where(TaskStatus.status == "done")
    if task_ids is not None:
        query = query.where(TaskStatus.task_id.in_(task_ids))
    out: dict[tuple[str, int], dict[str, TaskStatus]] = {}
    for row in (await session.scalars(query)).all():
        out.setdefault((row.task_id, row.department_id), {})[row.period] = row
    return out


def _department_status(
    task: Task, dept: str, role: str, done_rows: dict[str, TaskStatus], today: date
) -> DepartmentStatus:
    occ = current_occurrence(task, today, done_rows)
    if occ is None:
        last = max(done_rows.values(), key=lambda r: r.period, default=None)
        occs = occurrences(task, today)
        period = last.period if last else (occs[-1].period if occs else ONCE)
        due = next((o.due for o in occs if o.period == period), None)
        return DepartmentStatus(
            dept, role, "done", period, due, last.done_at if last else None, last.done_by if last else ""
        )
    status = "overdue" if occ.due < today else "open"
    return DepartmentStatus(dept, role, status, occ.period, occ.due)


async def list_tasks(
    session: AsyncSession,
    *,
    department: str | None = None,
    now: datetime,
    timezone: str = DEFAULT_TIMEZONE,
    include_inactive: bool = False,
    open_only: bool = False,
) -> list[TaskView]:
    """Tasks as of ``now``, overdue first (most overdue first), then by due date, done last.

    ``department`` (short forms accepted) limits the list to that department's tasks and statuses.
    Raises ``DepartmentError`` for an unknown department.
    """
    today = local_today(now, timezone)
    dept_rows = dict((await session.execute(select(Department.id, Department.name))).all())
    dept_id: int | None = None
    if department is not None:
        name = match_department_name(department, list(dept_rows.values()))
        dept_id = next(i for i, n in dept_rows.items() if n == name)
    query = select(Task).order_by(Task.sort_order, Task.id)
    if not include_inactive:
        query = query.where(Task.active.is_(True))
    tasks = list((await session.scalars(query)).all())
    roles: dict[str, list[tuple[int, str]]] = {}
    for task_id, d_id, role in (
        await session.execute(select(TaskDepartment.task_id, TaskDepartment.department_id, TaskDepartment.role))
    ).all():
        roles.setdefault(task_id, []).append((d_id, role))
    if dept_id is not None:
        tasks = [t for t in tasks if any(d == dept_id for d, _ in roles.get(t.id, []))]
    done = await _status_rows(session, [t.id for t in tasks] if len(tasks) < 500 else None)
    counts = await _delivery_counts(session, dept_id)
    views = []
    for task in tasks:
        assigned = sorted(roles.get(task.id, []), key=lambda x: (ROLES.index(x[1]), x[0]))
        statuses = [
            _department_status(task, dept_rows[d], role, done.get((task.id, d), {}), today) for d, role in assigned
        ]
        focus = [s for s in statuses if dept_rows.get(dept_id or -1) == s.department] if dept_id else statuses
        view = _task_view(task, dept_rows, assigned, statuses, focus, today, counts.get(task.id, (0, 0)))
        if open_only and view.status == "done":
            continue
        views.append(view)
    views.sort(key=lambda v: (_STATUS_ORDER[v.status], -v.overdue_working_days, v.due_date or date.max, v.id))
    return views


def _task_view(
    task: Task,
    dept_rows: dict[int, str],
    assigned: list[tuple[int, str]],
    statuses: list[DepartmentStatus],
    focus: list[DepartmentStatus],
    today: date,
    counts: tuple[int, int],
) -> TaskView:
    open_focus = [s for s in focus if s.status != "done"]
    pick = min(open_focus, key=lambda s: s.due_date or date.max) if open_focus else (focus[0] if focus else None)
    if pick is None:
        occs = occurrences(task, today)
        occ = next((o for o in occs if o.due >= today), occs[-1] if occs else None)
        period, due = (occ.period, occ.due) if occ else (ONCE, None)
        status = "open"
    else:
        period, due, status = pick.period, pick.due_date, pick.status
    nominal = next((o.nominal for o in occurrences(task, today) if o.period == period), task.deadline)
    overdue = workdays.working_days_between(due, today) if due and status == "overdue" else 0
    left = workdays.working_days_between(today, due) if due and status == "open" and due >= today else 0
    return TaskView(
        id=task.id,
        citation=task.citation,
        title=task.title,
        deliverable=task.deliverable,
        lead_unit=dept_rows.get(task.lead_department_id, ""),
        co_units=[dept_rows[d] for d, r in assigned if r == "co"],
        local_units=[dept_rows[d] for d, r in assigned if r == "local"],
        recurrence=task.recurrence,
        deadline_text=task.deadline_text,
        deadline_basis=task.deadline_basis,
        period=period,
        nominal_deadline=nominal,
        due_date=due,
        status=status,
        overdue_working_days=overdue,
        working_days_left=left,
        departments=statuses,
        reminders_sent=counts[0],
        reminders_acknowledged=counts[1],
        active=task.active,
    )


async def _delivery_counts(session: AsyncSession, department_id: int | None) -> dict[str, tuple[int, int]]:
    query = (
        select(
            ReminderDelivery.task_id,
            func.count(ReminderDelivery.sent_at),
            func.count(ReminderDelivery.acknowledged_at),
        )
        .where(ReminderDelivery.status == "sent")
        .group_by(ReminderDelivery.task_id)
    )
    if department_id is not None:
        query = query.where(ReminderDelivery.department_id == department_id)
    return {task_id: (sent, acked) for task_id, sent, acked in (await session.execute(query)).all()}


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
) -> DoneResult:
    """Record that ``department`` finished the current occurrence of a task (or ``period``), with who
    and when. Raises ``TaskError`` (unknown task, department not assigned) or ``DepartmentError``."""
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
    await session.flush()
    return DoneResult(task.id, task.title, name, occ.period, occ.due, already=False)
