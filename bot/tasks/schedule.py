"""When a task is due: its occurrences (yearly or once), moved to a working day by its rule."""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_TIMEZONE
from bot.tasks import workdays
from storage.models.reminders import Task

ONCE = "once"


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
