"""Tasks of the plan: the editable data file, occurrences and due dates, per-department status, queries.

A task is due once (``deadline``) or every year (``recurrence = "yearly"``, ``due = "MM-DD"``). The
effective due date of an occurrence is a working day: "by 2023-12-31" means the last working day on or
before it (2023-12-29); a task may instead say ``deadline_rule = "next_working_day"`` (a deadline that
falls on a holiday extends to the next working day). Each assigned department has its own status per
occurrence (``period``: ``once`` or the year).

Queries for the staff console: ``list_tasks`` (overdue first), ``deliveries_for_task``, ``mark_done``.
"""

from __future__ import annotations

import calendar as month_calendar
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import calendar as workdays
from storage.contacts import DepartmentError, match_department_name
from storage.models import Department
from storage.models.reminders import Contact, ReminderDelivery, Task, TaskDepartment, TaskStatus
from storage.staff import record_audit

DEFAULT_TIMEZONE = "Asia/Shanghai"
TASK_ID = re.compile(r"[A-Z][A-Z0-9-]{0,31}")
MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")
RULES = ("last_working_day", "next_working_day")
ROLES = ("lead", "co", "local")
ROLE_LABELS = {"lead": "牵头", "co": "配合", "local": "属地落实"}
ONCE = "once"
ALL_LOCAL = "all"
KNOWN_KEYS = frozenset(
    {
        "id",
        "citation",
        "title",
        "deliverable",
        "lead_unit",
        "co_units",
        "local_units",
        "deadline",
        "recurrence",
        "due",
        "first_year",
        "last_year",
        "deadline_rule",
        "deadline_text",
        "deadline_basis",
        "active",
    }
)


class TaskFileError(ValueError):
    """A tasks file that cannot be imported; ``problems`` names the file and the entry of each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class TaskError(ValueError):
    """An operation on a task that cannot be done (unknown task, not assigned, already done)."""


# ---- the data file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """One validated entry of a tasks file; department names are the canonical ones."""

    id: str
    citation: str
    title: str
    deliverable: str
    lead_unit: str
    co_units: tuple[str, ...]
    local_units: tuple[str, ...]
    recurrence: str
    deadline: date | None
    recur_month: int | None
    recur_day: int | None
    first_year: int | None
    last_year: int | None
    deadline_rule: str
    deadline_text: str
    deadline_basis: str
    active: bool
    sort_order: int

    def assignments(self) -> list[tuple[str, str]]:
        """(department, role) with each department once, the strongest role kept."""
        seen: dict[str, str] = {}
        for name, role in (
            [(self.lead_unit, "lead")] + [(n, "co") for n in self.co_units] + [(n, "local") for n in self.local_units]
        ):
            seen.setdefault(name, role)
        return list(seen.items())


def _text(entry: dict[str, Any], key: str, where: str, problems: list[str], *, required: bool, limit: int) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        problems.append(f"{where}: {key} must be a string")
        return ""
    value = value.strip()
    if required and not value:
        problems.append(f"{where}: {key} is required")
    if len(value) > limit:
        problems.append(f"{where}: {key} is longer than {limit} characters")
    return value


def _units(value: Any, key: str, where: str, names: list[str], problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: {key} must be a list of department names")
        return ()
    out: list[str] = []
    for raw in value:
        try:
            out.append(match_department_name(raw, names))
        except DepartmentError as exc:
            problems.append(f"{where}: {key}: {exc}")
    return tuple(out)


def validate_entry(
    entry: Any, index: int, names: list[str], local_names: list[str], problems: list[str]
) -> TaskSpec | None:
    """Check one ``[[task]]`` entry; append messages naming the entry to ``problems``."""
    where = f"task #{index}"
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a table ([[task]])")
        return None
    raw_id = entry.get("id")
    if isinstance(raw_id, str) and raw_id.strip():
        where = f"task #{index} (id {raw_id.strip()})"
    before = len(problems)
    for key in sorted(set(entry) - KNOWN_KEYS):
        problems.append(f"{where}: unknown key {key!r} (known: {', '.join(sorted(KNOWN_KEYS))})")
    task_id = raw_id.strip().upper() if isinstance(raw_id, str) else ""
    if not TASK_ID.fullmatch(task_id):
        problems.append(f"{where}: id must be a letter followed by letters, digits or '-' (at most 32), e.g. T05")
    title = _text(entry, "title", where, problems, required=True, limit=200)
    citation = _text(entry, "citation", where, problems, required=False, limit=32)
    deliverable = _text(entry, "deliverable", where, problems, required=False, limit=2000)
    deadline_text = _text(entry, "deadline_text", where, problems, required=False, limit=64)
    basis = _text(entry, "deadline_basis", where, problems, required=False, limit=2000)
    lead_raw = _text(entry, "lead_unit", where, problems, required=True, limit=64)
    lead = ""
    if lead_raw:
        try:
            lead = match_department_name(lead_raw, names)
        except DepartmentError as exc:
            problems.append(f"{where}: lead_unit: {exc}")
    co = _units(entry.get("co_units", []), "co_units", where, names, problems)
    local_value = entry.get("local_units", ALL_LOCAL)
    if local_value == ALL_LOCAL:
        local = tuple(local_names)
    elif local_value == "none":
        local = ()
    else:
        local = _units(local_value, "local_units", where, names, problems)
    rule = entry.get("deadline_rule", RULES[0])
    if rule not in RULES:
        problems.append(f"{where}: deadline_rule must be one of {', '.join(RULES)}")
    active = entry.get("active", True)
    if not isinstance(active, bool):
        problems.append(f"{where}: active must be true or false")
    recurrence = entry.get("recurrence", ONCE)
    deadline: date | None = None
    month = day = first_year = last_year = None
    if recurrence == ONCE:
        raw_deadline = entry.get("deadline")
        if isinstance(raw_deadline, datetime) or not isinstance(raw_deadline, date):
            problems.append(f'{where}: deadline must be a date such as 2025-12-31 (or set recurrence = "yearly")')
        else:
            deadline = raw_deadline
        for key in ("due", "first_year", "last_year"):
            if key in entry:
                problems.append(f'{where}: {key} only applies to recurrence = "yearly"')
    elif recurrence == "yearly":
        if "deadline" in entry:
            problems.append(f'{where}: a yearly task has due = "MM-DD", not deadline')
        due = entry.get("due")
        m = MONTH_DAY.fullmatch(due) if isinstance(due, str) else None
        if m is None or not 1 <= int(m.group(1)) <= 12 or not 1 <= int(m.group(2)) <= 31:
            problems.append(f'{where}: due must be a month and day such as "12-31"')
        else:
            month, day = int(m.group(1)), int(m.group(2))
            if day > month_calendar.monthrange(2024, month)[1]:
                problems.append(f"{where}: due {due} is not a day of the year")
        first_year, last_year = entry.get("first_year"), entry.get("last_year")
        for key, value in (("first_year", first_year), ("last_year", last_year)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 2000 <= value <= 2100
            ):
                problems.append(f"{where}: {key} must be a year between 2000 and 2100")
        if isinstance(first_year, int) and isinstance(last_year, int) and last_year < first_year:
            problems.append(f"{where}: last_year is before first_year")
    else:
        problems.append(f'{where}: recurrence must be "once" or "yearly"')
    if len(problems) > before:
        return None
    return TaskSpec(
        id=task_id,
        citation=citation,
        title=title,
        deliverable=deliverable,
        lead_unit=lead,
        co_units=co,
        local_units=local,
        recurrence=recurrence,
        deadline=deadline,
        recur_month=month,
        recur_day=day,
        first_year=first_year,
        last_year=last_year,
        deadline_rule=rule,
        deadline_text=deadline_text,
        deadline_basis=basis,
        active=active,
        sort_order=index,
    )


async def _department_names(session: AsyncSession) -> tuple[list[str], list[str]]:
    rows = (await session.execute(select(Department.name, Department.kind).order_by(Department.id))).all()
    return [n for n, _ in rows], [n for n, k in rows if k in ("county", "zone")]


def parse_tasks_text(text: str, source: str, names: list[str], local_names: list[str]) -> list[TaskSpec]:
    """Validate a whole tasks file; raises ``TaskFileError`` listing every problem (nothing is half-read)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaskFileError([f"{source}: not valid TOML: {exc}"]) from None
    problems: list[str] = []
    unknown = sorted(set(raw) - {"task"})
    if unknown:
        problems.append(f"{source}: unknown top-level key(s) {', '.join(unknown)}; tasks are [[task]] tables")
    entries = raw.get("task", [])
    if not isinstance(entries, list) or not entries:
        raise TaskFileError([*problems, f"{source}: no [[task]] entries"])
    specs: list[TaskSpec] = []
    entry_problems: list[str] = []
    for i, entry in enumerate(entries, start=1):
        spec = validate_entry(entry, i, names, local_names, entry_problems)
        if spec is not None:
            specs.append(spec)
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs, start=1):
        if spec.id in seen:
            entry_problems.append(f"task id {spec.id} appears twice (entries #{seen[spec.id]} and #{spec.sort_order})")
        seen.setdefault(spec.id, i)
    problems += [f"{source}: {p}" for p in entry_problems]
    if problems:
        raise TaskFileError(problems)
    return specs


async def read_tasks_file(session: AsyncSession, path: str | Path) -> list[TaskSpec]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaskFileError([f"{path}: no such file"]) from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise TaskFileError([f"{path}: cannot be read as UTF-8 text ({type(exc).__name__})"]) from None
    names, local_names = await _department_names(session)
    return parse_tasks_text(text, str(path), names, local_names)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


_COMPARED = (
    "citation",
    "title",
    "deliverable",
    "recurrence",
    "deadline",
    "recur_month",
    "recur_day",
    "first_year",
    "last_year",
    "deadline_rule",
    "deadline_text",
    "deadline_basis",
    "active",
    "sort_order",
)


async def import_tasks(session: AsyncSession, specs: Sequence[TaskSpec], *, source: str, now: datetime) -> ImportResult:
    """Create or update the tasks in ``specs`` (by id) and their departments; other tasks are left alone."""
    dept_ids = dict((await session.execute(select(Department.name, Department.id))).all())
    existing = {t.id: t for t in (await session.scalars(select(Task).where(Task.id.in_([s.id for s in specs])))).all()}
    assigned: dict[str, set[tuple[int, str]]] = {}
    for task_id, dept_id, role in (
        await session.execute(
            select(TaskDepartment.task_id, TaskDepartment.department_id, TaskDepartment.role).where(
                TaskDepartment.task_id.in_(list(existing))
            )
        )
    ).all():
        assigned.setdefault(task_id, set()).add((dept_id, role))
    created = updated = unchanged = 0
    for spec in specs:
        wanted = {(dept_ids[name], role) for name, role in spec.assignments()}
        values = {key: getattr(spec, key) for key in _COMPARED}
        values["lead_department_id"] = dept_ids[spec.lead_unit]
        task = existing.get(spec.id)
        if task is None:
            session.add(Task(id=spec.id, source=source, created_at=now, updated_at=now, **values))
            created += 1
        elif all(getattr(task, k) == v for k, v in values.items()) and assigned.get(spec.id, set()) == wanted:
            unchanged += 1
            continue
        else:
            for key, value in values.items():
                setattr(task, key, value)
            task.source = source
            task.updated_at = now
            updated += 1
        await session.flush()
        await session.execute(delete(TaskDepartment).where(TaskDepartment.task_id == spec.id))
        session.add_all(TaskDepartment(task_id=spec.id, department_id=d, role=r) for d, r in sorted(wanted))
    await session.flush()
    return ImportResult(created, updated, unchanged)


async def ensure_seed_tasks(session: AsyncSession, path: str | Path, *, now: datetime) -> int:
    """Import the seed file when there are no tasks at all (first start); returns how many were added."""
    if await session.scalar(select(func.count()).select_from(Task)):
        return 0
    specs = await read_tasks_file(session, path)
    return (await import_tasks(session, specs, source=str(Path(path).name), now=now)).created


# ---- occurrences -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One instance of a task: ``period`` is ``once`` or the year; ``due`` is the effective working day."""

    period: str
    nominal: date
    due: date


def effective_due(nominal: date, rule: str) -> date:
    if rule == "next_working_day":
        return workdays.next_working_day_on_or_after(nominal)
    return workdays.last_working_day_on_or_before(nominal)


def _yearly_nominal(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, month_calendar.monthrange(year, month)[1]))


def occurrences(task: Task, around: date) -> list[Occurrence]:
    """The occurrences that matter on ``around``: the one-off deadline, or for a yearly duty the previous,
    current and next year's (older cycles are no longer chased)."""
    if task.recurrence != "yearly":
        if task.deadline is None:
            return []
        return [Occurrence(ONCE, task.deadline, effective_due(task.deadline, task.deadline_rule))]
    assert task.recur_month is not None and task.recur_day is not None
    out = []
    for year in (around.year - 1, around.year, around.year + 1):
        if (task.first_year and year < task.first_year) or (task.last_year and year > task.last_year):
            continue
        nominal = _yearly_nominal(year, task.recur_month, task.recur_day)
        out.append(Occurrence(str(year), nominal, effective_due(nominal, task.deadline_rule)))
    return out


def current_occurrence(task: Task, today: date, done_periods: Iterable[str]) -> Occurrence | None:
    """The occurrence a department is working on: its oldest open one that is overdue, else the next one
    due. None when everything relevant is done."""
    done = set(done_periods)
    occs = occurrences(task, today)
    open_occs = [o for o in occs if o.period not in done]
    overdue = [o for o in open_occs if o.due < today]
    if overdue:
        return overdue[0]
    upcoming = [o for o in open_occs if o.due >= today]
    if task.recurrence == "yearly":
        # Only the nearest cycle: next year's is not open while this year's is still ahead.
        nearest = min((o for o in occs if o.due >= today), key=lambda o: o.due, default=None)
        return nearest if nearest is not None and nearest.period not in done else None
    return upcoming[0] if upcoming else None


def task_cycle(task: Task, today: date, done_by_department: Sequence[Iterable[str]]) -> Occurrence | None:
    """The one occurrence a task is shown on, for all its departments alike: the oldest that is overdue
    and not done by every department, else the one the departments work on next (for a yearly task the
    nearest cycle), else the latest. ``done_by_department`` holds each assigned department's done periods."""
    done_sets = [set(periods) for periods in done_by_department]
    occs = occurrences(task, today)
    for occ in occs:
        if occ.due < today and any(occ.period not in done for done in done_sets):
            return occ
    ahead = [o for o in occs if o.due >= today]
    if ahead:
        return ahead[0]
    return occs[-1] if occs else None


def local_today(now: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


# ---- views for chat, CLI and the console -------------------------------------------------------


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
    cycle: str = ""  # the period ``departments`` are shown on
    completions: list[Completion] = field(default_factory=list)

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
    from storage.models.reminders import ReminderMessage

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
        raise TaskError(f"没有编号为 {task_id} 的任务")
    dept_rows = dict((await session.execute(select(Department.name, Department.id))).all())
    name = match_department_name(department, list(dept_rows))
    dept_id = dept_rows[name]
    role = await session.scalar(
        select(TaskDepartment.role).where(TaskDepartment.task_id == task.id, TaskDepartment.department_id == dept_id)
    )
    if role is None:
        raise TaskError(f"任务 {task.id} 没有分配给 {name}")
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
                raise TaskError(f"任务 {task.id} 没有截止日期")
            return DoneResult(task.id, task.title, name, occ.period, occ.due, already=True)
    else:
        occ = next((o for o in occs if o.period == period), None)
        if occ is None:
            raise TaskError(f"任务 {task.id} 没有周期 {period}（可选：{'、'.join(o.period for o in occs)}）")
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
