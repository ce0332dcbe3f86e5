"""The plan file (tasks.toml): reading and checking its entries, and importing them into the task tables."""

from __future__ import annotations

import calendar as month_calendar
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.tasks.schedule import ONCE
from storage.contacts import DepartmentError, match_department_name
from storage.models import Department
from storage.models.reminders import Task, TaskDepartment

PROBLEMS = texts.TASK_FILE_PROBLEMS
TASK_ID = re.compile(r"[A-Z][A-Z0-9-]{0,31}")
MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")
RULES = ("last_working_day", "next_working_day")
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
        "lead_named",
    }
)


class TaskFileError(ValueError):
    """A tasks file that cannot be imported; ``problems`` names the file and the entry of each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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
    lead_named: bool = False  # the plan says "X牵头"; else the units share it "按职责分工负责"

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
        problems.append(PROBLEMS["not_string"].format(where=where, key=key))
        return ""
    value = value.strip()
    if required and not value:
        problems.append(PROBLEMS["required"].format(where=where, key=key))
    if len(value) > limit:
        problems.append(PROBLEMS["too_long"].format(where=where, key=key, limit=limit))
    return value


def _units(value: Any, key: str, where: str, names: list[str], problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(PROBLEMS["not_unit_list"].format(where=where, key=key))
        return ()
    out: list[str] = []
    for raw in value:
        try:
            out.append(match_department_name(raw, names))
        except DepartmentError as exc:
            problems.append(PROBLEMS["unit"].format(where=where, key=key, reason=texts.reason(exc)))
    return tuple(out)


def validate_entry(
    entry: Any, index: int, names: list[str], local_names: list[str], problems: list[str]
) -> TaskSpec | None:
    """Check one ``[[task]]`` entry; append messages naming the entry to ``problems``."""
    where = PROBLEMS["where"].format(index=index)
    if not isinstance(entry, dict):
        problems.append(PROBLEMS["not_table"].format(where=where))
        return None
    raw_id = entry.get("id")
    if isinstance(raw_id, str) and raw_id.strip():
        where = PROBLEMS["where_id"].format(index=index, id=raw_id.strip())
    before = len(problems)
    for key in sorted(set(entry) - KNOWN_KEYS):
        problems.append(PROBLEMS["key_unknown"].format(where=where, key=key, known=", ".join(sorted(KNOWN_KEYS))))
    task_id = raw_id.strip().upper() if isinstance(raw_id, str) else ""
    if not TASK_ID.fullmatch(task_id):
        problems.append(PROBLEMS["id"].format(where=where))
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
            problems.append(PROBLEMS["unit"].format(where=where, key="lead_unit", reason=texts.reason(exc)))
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
        problems.append(PROBLEMS["rule"].format(where=where, rules=", ".join(RULES)))
    active = entry.get("active", True)
    if not isinstance(active, bool):
        problems.append(PROBLEMS["active"].format(where=where))
    lead_named = entry.get("lead_named", False)
    if not isinstance(lead_named, bool):
        problems.append(PROBLEMS["lead_named"].format(where=where))
    recurrence = entry.get("recurrence", ONCE)
    deadline: date | None = None
    month = day = first_year = last_year = None
    if recurrence == ONCE:
        raw_deadline = entry.get("deadline")
        if isinstance(raw_deadline, datetime) or not isinstance(raw_deadline, date):
            problems.append(PROBLEMS["deadline"].format(where=where))
        else:
            deadline = raw_deadline
        for key in ("due", "first_year", "last_year"):
            if key in entry:
                problems.append(PROBLEMS["yearly_only"].format(where=where, key=key))
    elif recurrence == "yearly":
        if "deadline" in entry:
            problems.append(PROBLEMS["yearly_deadline"].format(where=where))
        due = entry.get("due")
        m = MONTH_DAY.fullmatch(due) if isinstance(due, str) else None
        if m is None or not 1 <= int(m.group(1)) <= 12 or not 1 <= int(m.group(2)) <= 31:
            problems.append(PROBLEMS["due"].format(where=where))
        else:
            month, day = int(m.group(1)), int(m.group(2))
            if day > month_calendar.monthrange(2024, month)[1]:
                problems.append(PROBLEMS["due_day"].format(where=where, due=due))
        first_year, last_year = entry.get("first_year"), entry.get("last_year")
        for key, value in (("first_year", first_year), ("last_year", last_year)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 2000 <= value <= 2100
            ):
                problems.append(PROBLEMS["year"].format(where=where, key=key))
        if isinstance(first_year, int) and isinstance(last_year, int) and last_year < first_year:
            problems.append(PROBLEMS["years"].format(where=where))
    else:
        problems.append(PROBLEMS["recurrence"].format(where=where))
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
        lead_named=lead_named,
    )


async def _department_names(session: AsyncSession) -> tuple[list[str], list[str]]:
    rows = (await session.execute(select(Department.name, Department.kind).order_by(Department.id))).all()
    return [n for n, _ in rows], [n for n, k in rows if k in ("county", "zone")]


def parse_tasks_text(text: str, source: str, names: list[str], local_names: list[str]) -> list[TaskSpec]:
    """Validate a whole tasks file; raises ``TaskFileError`` listing every problem (nothing is half-read)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaskFileError([PROBLEMS["toml"].format(source=source, error=exc)]) from None
    problems: list[str] = []
    unknown = sorted(set(raw) - {"task"})
    if unknown:
        problems.append(PROBLEMS["top_unknown"].format(source=source, keys=", ".join(unknown)))
    entries = raw.get("task", [])
    if not isinstance(entries, list) or not entries:
        raise TaskFileError([*problems, PROBLEMS["none"].format(source=source)])
    specs: list[TaskSpec] = []
    entry_problems: list[str] = []
    for i, entry in enumerate(entries, start=1):
        spec = validate_entry(entry, i, names, local_names, entry_problems)
        if spec is not None:
            specs.append(spec)
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs, start=1):
        if spec.id in seen:
            entry_problems.append(PROBLEMS["twice"].format(id=spec.id, first=seen[spec.id], second=spec.sort_order))
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
        raise TaskFileError([PROBLEMS["no_file"].format(path=path)]) from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise TaskFileError([PROBLEMS["not_utf8"].format(path=path, error=type(exc).__name__)]) from None
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
    "lead_named",
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
