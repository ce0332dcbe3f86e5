"""Overdue cases in the reminders engine.

The planner asks this module for the day's case deliveries and the batcher asks it for their digest
lines, so case reminders share everything with task reminders: the ladder (an ``overdue`` reminder on
the same working days after the deadline as a late task), quiet hours and the sending window, one
digest per contact, and exactly-once delivery through the deliveries' unique key
(``task_id`` = ``case:<case no>``, ``period`` = the clock's stage, contact, kind, day).

- The handling department's bound contacts get the overdue reminders of its cases.
- The coordinating department (``[reminders] coordinator_department``) gets a weekly digest of the
  overdue cases per department on the first working day of the week on or after
  ``[reports] overdue_digest_weekday`` (1 = Monday … 7 = Sunday; 0 turns it off).

A delivery that no longer applies when its digest is made (the case was decided, resolved, extended or
handed to another department meanwhile) is dropped, as a finished task's is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.cases.clock import ClockRules, case_clock, clock_rules
from bot.cases.times import TimedCase, load_timed_cases
from bot.cases.view import last_day
from bot.reminders.render import Item
from bot.reports.catalog import OPEN_STATUSES, find_category
from bot.tasks import workdays
from storage.models import Department
from storage.models.reports import Report

CASE_PREFIX = "case:"
DIGEST_TASK = "cases:weekly"
DIGEST_KIND = "casedigest"


def is_case_delivery(task_id: str) -> bool:
    return task_id.startswith(CASE_PREFIX) or task_id == DIGEST_TASK


@dataclass(frozen=True)
class OverdueCase:
    case: TimedCase
    stage: str
    due_day: date


async def overdue_cases(session: AsyncSession, rules: ClockRules, now: datetime) -> list[OverdueCase]:
    cases = await load_timed_cases(session, Report.status.in_(sorted(OPEN_STATUSES)))
    found = []
    for case in cases:
        clock = case_clock(case.times, rules, now)
        if clock.overdue and clock.due_at is not None:
            found.append(OverdueCase(case, clock.stage, date.fromisoformat(last_day(clock.due_at))))
    return found


def digest_day(day: date, weekday: int) -> bool:
    """True when ``day`` is the week's digest day: the first working day on or after ``weekday``."""
    if weekday == 0 or not workdays.is_working_day(day) or day.isoweekday() < weekday:
        return False
    first = day - timedelta(days=day.isoweekday() - weekday)
    while not workdays.is_working_day(first):
        first += timedelta(days=1)
    return first == day


async def case_rows(
    session: AsyncSession,
    config: Any,
    snap: Any,
    ladder: Any,
    days: list[date],
    now: datetime,
    *,
    make_row: Callable[..., dict[str, Any]],
) -> list[dict[str, Any]]:
    """The case deliveries the ladder asks for on the working days ``days``; ``make_row`` is the planner's
    delivery row, so the planner inserts them with its own."""
    days = [d for d in days if workdays.is_working_day(d)]
    if not days:
        return []
    rules = clock_rules(config)
    overdue = await overdue_cases(session, rules, now)
    dept_ids = {name: dept_id for dept_id, name in snap.dept_names.items()}
    rows: list[dict[str, Any]] = []
    for day in days:
        send_after = ladder.send_at(day)
        for item in overdue:
            n = workdays.working_days_between(item.due_day, day)
            if not ladder.overdue_rung(n):
                continue
            dept = dept_ids.get(item.case.department)
            if dept is None:
                continue
            detail = {"n": n, "case": item.case.case_no, "stage": item.stage}
            task_id = f"{CASE_PREFIX}{item.case.case_no}"
            for contact in snap.contacts.get(dept, ()):
                row = make_row(
                    task_id, item.stage, contact, dept, "overdue", day, item.due_day, send_after, now, detail
                )
                rows.append(row)
        weekday = config.reports.overdue_digest_weekday
        coordinator = snap.coordinator_id
        if overdue and coordinator is not None and digest_day(day, weekday):
            week = f"{day.isocalendar().year}-W{day.isocalendar().week:02d}"
            for contact in snap.contacts.get(coordinator, ()):
                row = make_row(DIGEST_TASK, week, contact, coordinator, DIGEST_KIND, day, None, send_after, now, {})
                rows.append(row)
    return rows


async def case_items(session: AsyncSession, config: Any, row: Any, now: datetime) -> list[Any] | None:
    """The digest lines of one case delivery, or None when it no longer applies."""
    rules = clock_rules(config)
    if row.task_id == DIGEST_TASK:
        overdue = await overdue_cases(session, rules, now)
        if not overdue:
            return None
        per_department = Counter(item.case.department for item in overdue)
        oldest: dict[str, date] = {}
        for item in overdue:
            dept = item.case.department
            oldest[dept] = min(oldest.get(dept, item.due_day), item.due_day)
        return [
            Item(kind=DIGEST_KIND, task_id=dept, title=str(count), due=oldest[dept], n=count)
            for dept, count in sorted(per_department.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
    case_no = row.task_id.removeprefix(CASE_PREFIX)
    found = await load_timed_cases(session, Report.case_no == case_no)
    if not found or found[0].status not in OPEN_STATUSES:
        return None
    case = found[0]
    clock = case_clock(case.times, rules, now)
    if clock.stage != row.period or not clock.overdue or clock.due_at is None:
        return None
    department = await _department_name(session, row.department_id)
    if department != case.department:
        return None
    category = find_category(case.category)
    return [
        Item(
            kind="overdue",
            task_id=case.case_no,
            citation=texts.CLOCK_STAGES[clock.stage] + texts.CASE_REMINDER_DEADLINE,
            title=texts.CASE_REMINDER_TITLE.format(category=category.label if category else case.category),
            due=date.fromisoformat(last_day(clock.due_at)),
            n=int((row.detail or {}).get("n", 0)),
        )
    ]


async def _department_name(session: AsyncSession, department_id: int) -> str | None:
    return await session.scalar(select(Department.name).where(Department.id == department_id))
