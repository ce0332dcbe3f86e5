"""Where the plan's tasks stand: per-department status on the task's cycle and the views chat, CLI and
console show.

The plan file is ``bot.tasks.planfile``; occurrences, due dates and a task's cycle are ``bot.tasks.schedule``;
recording a completion and a task's reminders are ``bot.tasks.completion``.

Each assigned department has its own status per occurrence (``period``: ``once`` or the year). A task is
shown on one cycle for all its departments (``task_cycle``: the oldest overdue one some department still
owes, else the next); a department's own view follows its current occurrence, which is later once it has
finished the task's cycle. Every recorded completion, of any cycle, is in ``TaskView.completions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import DEFAULT_TIMEZONE
from bot.tasks import workdays
from bot.tasks.schedule import (
    ONCE,
    Occurrence,
    current_occurrence,
    local_today,
    occurrences,
    task_cycle,
)
from storage.contacts import match_department_name
from storage.models import Department
from storage.models.reminders import ReminderDelivery, Task, TaskDepartment, TaskStatus

ROLES = ("lead", "co", "local")


class TaskError(ValueError):
    """An operation on a task that cannot be done (unknown task, not assigned, already done)."""


@dataclass(frozen=True)
class DepartmentStatus:
    """One department's part of a task on one occurrence, with the reminders it got for that occurrence."""

    department: str
    role: str  # lead | co | local
    status: str  # open | overdue | done
    period: str
    due_date: date | None
    done_at: datetime | None = None
    done_by: str = ""
    done_via: str = ""  # chat | console | cli
    reminders_sent: int = 0
    reminders_acknowledged: int = 0


@dataclass(frozen=True)
class Completion:
    """A recorded completion of one occurrence by one department (any cycle, newest first in a view)."""

    department: str
    period: str
    done_at: datetime | None
    done_by: str
    done_via: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class TaskView:
    """A task as of one day. ``departments`` are all on the task's cycle (``task_cycle``). With a
    department filter, ``status``/``period``/``due_date`` are that department's current occurrence (the one
    its reminders are about; later than the task's cycle once it finished that); otherwise the task's
    cycle: overdue if any department is overdue on it, done if all are done. ``completions`` lists every
    recorded completion of the task, any cycle, newest first."""

    id: str
    citation: str
    title: str
    deliverable: str
    lead_unit: str  # the plan's 牵头 unit when ``lead_named``, else the first unit it names
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
    cycle: str = ""  # the period ``departments`` are shown on
    lead_named: bool = True  # False: the plan names no lead; the units share the task "按职责分工负责"
    completions: list[Completion] = field(default_factory=list)

    def role_label(self, role: str) -> str:
        """牵头 / 配合 / 属地落实, or 按职责分工负责 for the lead and co-operating units of a task whose clause names
        no lead unit."""
        if not self.lead_named and role in ("lead", "co"):
            return texts.TASK_ROLE_SHARED if self.co_units else texts.TASK_ROLE_SOLE
        return texts.TASK_ROLE_LABELS.get(role, role)

    @property
    def responsible_units(self) -> str:
        """The clause's units as officials read them: the lead unit, or all of them 按职责分工负责."""
        if self.lead_named or not self.co_units:
            return self.lead_unit
        return texts.TASK_UNITS_SHARED.format(units="、".join([self.lead_unit, *self.co_units]))

    def leads(self, department: str) -> bool:
        """The plan makes ``department`` this task's lead unit (牵头)."""
        return self.lead_named and self.lead_unit == department

    def last_completion(self, department: str) -> Completion | None:
        return next((c for c in self.completions if c.department == department), None)

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
            "lead_named": self.lead_named,
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
            "cycle": self.cycle,
            "departments": [
                {
                    "department": d.department,
                    "role": d.role,
                    "status": d.status,
                    "period": d.period,
                    "due_date": d.due_date,
                    "done_at": d.done_at,
                    "done_by": d.done_by,
                    "done_via": d.done_via,
                    "reminders_sent": d.reminders_sent,
                    "reminders_acknowledged": d.reminders_acknowledged,
                }
                for d in self.departments
            ],
            "completions": [c.as_dict() for c in self.completions],
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


def _status_on(
    dept: str,
    role: str,
    done_rows: dict[str, TaskStatus],
    occ: Occurrence | None,
    today: date,
    counts: tuple[int, int] = (0, 0),
) -> DepartmentStatus:
    """A department's status on one given occurrence."""
    if occ is None:
        return DepartmentStatus(
            dept, role, "open", ONCE, None, reminders_sent=counts[0], reminders_acknowledged=counts[1]
        )
    row = done_rows.get(occ.period)
    if row is not None:
        return DepartmentStatus(
            dept, role, "done", occ.period, occ.due, row.done_at, row.done_by, row.done_via, counts[0], counts[1]
        )
    status = "overdue" if occ.due < today else "open"
    return DepartmentStatus(
        dept, role, status, occ.period, occ.due, reminders_sent=counts[0], reminders_acknowledged=counts[1]
    )


def _department_status(
    task: Task, dept: str, role: str, done_rows: dict[str, TaskStatus], today: date
) -> DepartmentStatus:
    """A department's own current occurrence: what it works on now (and is reminded about)."""
    occ = current_occurrence(task, today, done_rows)
    if occ is None:
        last = max(done_rows.values(), key=lambda r: r.period, default=None)
        occs = occurrences(task, today)
        period = last.period if last else (occs[-1].period if occs else ONCE)
        occ = next((o for o in occs if o.period == period), None)
    return _status_on(dept, role, done_rows, occ, today)


def _completions(done: dict[str, TaskStatus], dept: str) -> list[Completion]:
    return [Completion(dept, r.period, r.done_at, r.done_by, r.done_via) for r in done.values()]


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

    ``department`` (short forms accepted) limits the list to that department's tasks and its current
    occurrence of each. Raises ``DepartmentError`` for an unknown department.
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
    counts = await _delivery_counts(session)
    totals = _task_totals(counts, dept_id)
    views = []
    for task in tasks:
        assigned = sorted(roles.get(task.id, []), key=lambda x: (ROLES.index(x[1]), x[0]))
        rows = {d: done.get((task.id, d), {}) for d, _role in assigned}
        cycle = task_cycle(task, today, [rows[d] for d, _role in assigned])
        period = cycle.period if cycle else ONCE
        statuses = [
            _status_on(dept_rows[d], role, rows[d], cycle, today, counts.get((task.id, d, period), (0, 0)))
            for d, role in assigned
        ]
        completions = sorted(
            (c for d, _role in assigned for c in _completions(rows[d], dept_rows[d])),
            key=lambda c: (c.period, c.done_at or datetime.min.replace(tzinfo=UTC)),
            reverse=True,
        )
        if dept_id is not None:
            role = next(r for d, r in assigned if d == dept_id)
            focus = _department_status(task, dept_rows[dept_id], role, rows[dept_id], today)
        else:
            focus = _task_status(statuses, cycle)
        view = _task_view(task, dept_rows, assigned, statuses, focus, today, totals.get(task.id, (0, 0)), completions)
        if open_only and view.status == "done":
            continue
        views.append(view)
    views.sort(key=lambda v: (_STATUS_ORDER[v.status], -v.overdue_working_days, v.due_date or date.max, v.id))
    return views


def _task_status(statuses: list[DepartmentStatus], cycle: Occurrence | None) -> DepartmentStatus:
    """The task as a whole on its cycle: overdue if any department is, open if any is, else done."""
    states = {s.status for s in statuses}
    status = next((s for s in ("overdue", "open") if s in states), "done" if statuses else "open")
    period, due = (cycle.period, cycle.due) if cycle else (ONCE, None)
    return DepartmentStatus("", "", status, period, due)


def _task_view(
    task: Task,
    dept_rows: dict[int, str],
    assigned: list[tuple[int, str]],
    statuses: list[DepartmentStatus],
    focus: DepartmentStatus,
    today: date,
    counts: tuple[int, int],
    completions: list[Completion],
) -> TaskView:
    period, due, status = focus.period, focus.due_date, focus.status
    nominal = next((o.nominal for o in occurrences(task, today) if o.period == period), task.deadline)
    overdue = workdays.working_days_between(due, today) if due and status == "overdue" else 0
    left = workdays.working_days_between(today, due) if due and status == "open" and due >= today else 0
    return TaskView(
        id=task.id,
        citation=task.citation,
        title=task.title,
        deliverable=task.deliverable,
        lead_unit=dept_rows.get(task.lead_department_id, ""),
        lead_named=bool(task.lead_named),
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
        cycle=statuses[0].period if statuses else period,
        completions=completions,
    )


async def _delivery_counts(session: AsyncSession) -> dict[tuple[str, int, str], tuple[int, int]]:
    """Reminders sent and acknowledged per (task, department, period)."""
    query = (
        select(
            ReminderDelivery.task_id,
            ReminderDelivery.department_id,
            ReminderDelivery.period,
            func.count(ReminderDelivery.sent_at),
            func.count(ReminderDelivery.acknowledged_at),
        )
        .where(ReminderDelivery.status == "sent")
        .group_by(ReminderDelivery.task_id, ReminderDelivery.department_id, ReminderDelivery.period)
    )
    return {(t, d, p): (sent, acked) for t, d, p, sent, acked in (await session.execute(query)).all()}


def _task_totals(
    counts: dict[tuple[str, int, str], tuple[int, int]], department_id: int | None
) -> dict[str, tuple[int, int]]:
    """Reminders per task over every cycle: all departments', or only ``department_id``'s."""
    totals: dict[str, tuple[int, int]] = {}
    for (task_id, d, _period), (sent, acked) in counts.items():
        if department_id is None or d == department_id:
            before = totals.get(task_id, (0, 0))
            totals[task_id] = (before[0] + sent, before[1] + acked)
    return totals
