"""The statistics' figures, computed once for the console page, its download and the monthly report.

Scope: ``visible`` is the console's visibility clause for the account (everything for the CLI), so a
department sees only the figures of the cases it may open. The period, county and department filters
narrow the cases by their receipt day (local time); the plan's tasks follow the department filter and
show each department's status now.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.cases.clock import LOCAL_TZ, ClockRules, case_clock, local_day
from bot.cases.times import TimedCase, load_timed_cases
from bot.questions.log import REFUSED_KINDS
from bot.reports.catalog import categories
from bot.reports.geo import routing_targets
from bot.tasks.status import list_tasks
from storage.models.questions import QuestionLog
from storage.models.reports import Report

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class StatsFilters:
    """The cases counted: received on ``date_from``..``date_to`` (local days, inclusive)."""

    date_from: date
    date_to: date
    county: str = ""
    department: str = ""

    def query_pairs(self) -> list[tuple[str, str]]:
        pairs = [
            ("date_from", self.date_from.isoformat()),
            ("date_to", self.date_to.isoformat()),
            ("county", self.county),
            ("department", self.department),
        ]
        return [(k, v) for k, v in pairs if v]


def month_bounds(month: str) -> tuple[date, date]:
    """``2026-11`` → (2026-11-01, 2026-11-30); ValueError for anything else."""
    first = date.fromisoformat(f"{month}-01") if len(month) == 7 else None
    if first is None:
        raise ValueError(month)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def cases_clause(visible: ColumnElement[bool], filters: StatsFilters) -> ColumnElement[bool]:
    """The filtered cases as a clause on ``Report`` (also what a direct count uses)."""
    parts = [
        visible,
        Report.created_at >= _local_midnight(filters.date_from),
        Report.created_at < _local_midnight(filters.date_to + timedelta(days=1)),
    ]
    if filters.county:
        parts.append(Report.county == filters.county)
    if filters.department:
        parts.append(Report.department == filters.department)
    return and_(true(), *parts)


@dataclass(frozen=True)
class OnTime:
    """Of the clocks that have ended (stopped or run out), how many stopped in time."""

    on_time: int
    ended: int

    @property
    def share(self) -> float | None:
        return None if self.ended == 0 else self.on_time / self.ended


@dataclass(frozen=True)
class TaskCounts:
    department: str
    done: int
    open: int
    overdue: int


@dataclass
class Figures:
    filters: StatsFilters
    computed_at: datetime
    total: int = 0
    by_month: list[tuple[str, int]] = field(default_factory=list)
    by_county: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_status: list[tuple[str, int]] = field(default_factory=list)
    median_accept_days: float | None = None
    median_resolve_days: float | None = None
    accept: OnTime = OnTime(0, 0)
    complete: OnTime = OnTime(0, 0)
    overdue_now: int = 0
    tasks: list[TaskCounts] = field(default_factory=list)
    questions: list[tuple[str, int, int]] = field(default_factory=list)  # (ISO week, asked, refused)


def months_between(first: date, last: date) -> list[str]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _days_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / SECONDS_PER_DAY)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _ordered(counter: Counter[str], order: list[str], labels: dict[str, str]) -> list[tuple[str, int]]:
    """Counts in the catalogue's order (known keys first, including zeros), then any others by size."""
    rows = [(labels.get(key, key), counter.get(key, 0)) for key in order]
    rows += [(labels.get(k, k), n) for k, n in counter.most_common() if k not in order]
    return rows


def case_figures(
    cases: list[TimedCase],
    filters: StatsFilters,
    rules: ClockRules,
    *,
    now: datetime,
    counties: list[str],
    categories: dict[str, str],
    statuses: dict[str, str],
    unrouted_label: str,
) -> Figures:
    """Every case figure from the loaded cases (pure: the tests feed it directly)."""
    figures = Figures(filters=filters, computed_at=now, total=len(cases))
    months = Counter(local_day(c.times.created_at).strftime("%Y-%m") for c in cases)
    figures.by_month = [(m, months.get(m, 0)) for m in months_between(filters.date_from, filters.date_to)]
    county_counts = Counter(c.county or "" for c in cases)
    figures.by_county = _ordered(county_counts, [*counties, ""], {"": unrouted_label})
    figures.by_county = [(k, n) for k, n in figures.by_county if n or k != unrouted_label]
    figures.by_category = _ordered(Counter(c.category for c in cases), list(categories), categories)
    figures.by_status = _ordered(Counter(c.status for c in cases), list(statuses), statuses)
    accept_days: list[float] = []
    resolve_days: list[float] = []
    accept_on, accept_ended, complete_on, complete_ended, overdue = 0, 0, 0, 0, 0
    for item in cases:
        times = item.times
        days = _days_between(times.created_at, times.decided_at)
        if days is not None:
            accept_days.append(days)
        days = _days_between(times.accepted_at, times.resolved_at)
        if days is not None:
            resolve_days.append(days)
        clock = case_clock(times, rules, now)
        if clock.accept_on_time is not None:
            accept_ended += 1
            accept_on += int(clock.accept_on_time)
        if clock.complete_on_time is not None:
            complete_ended += 1
            complete_on += int(clock.complete_on_time)
        overdue += int(clock.overdue)
    figures.median_accept_days = _median(accept_days)
    figures.median_resolve_days = _median(resolve_days)
    figures.accept = OnTime(accept_on, accept_ended)
    figures.complete = OnTime(complete_on, complete_ended)
    figures.overdue_now = overdue
    return figures


def task_counts(views: list[Any], department: str | None) -> list[TaskCounts]:
    """Per department: assignments done, open and overdue now (``department`` limits to one)."""
    counts: dict[str, Counter[str]] = {}
    for view in views:
        for unit in view.departments:
            if department and unit.department != department:
                continue
            counts.setdefault(unit.department, Counter())[unit.status] += 1
    rows = [TaskCounts(name, c["done"], c["open"], c["overdue"]) for name, c in counts.items()]
    return sorted(rows, key=lambda r: (-r.overdue, -(r.done + r.open + r.overdue), r.department))


async def compute(
    session: AsyncSession,
    rules: ClockRules,
    filters: StatsFilters,
    *,
    visible: ColumnElement[bool],
    task_department: str | None,
    now: datetime,
) -> Figures:
    """All figures for one scope: ``visible`` limits the cases, ``task_department`` the tasks."""
    cases = await load_timed_cases(session, cases_clause(visible, filters))
    figures = case_figures(
        cases,
        filters,
        rules,
        now=now,
        counties=list(routing_targets()),
        categories={category.code: category.label for category in categories()},
        statuses=dict(texts.STATUS_LABELS),
        unrouted_label=texts.STATS_UNROUTED,
    )
    figures.questions = await question_weeks(session, filters)
    if task_department is not None and filters.department not in ("", task_department):
        return figures  # a department sees only its own tasks
    department = filters.department or task_department
    views = await list_tasks(session, department=department, now=now)
    figures.tasks = task_counts(views, department)
    return figures


def week_label(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


async def question_weeks(session: AsyncSession, filters: StatsFilters) -> list[tuple[str, int, int]]:
    """Questions asked and refused per ISO week of the period (the question log has no department or
    county, so only the period applies)."""
    stmt = select(QuestionLog.asked_at, QuestionLog.kind).where(
        QuestionLog.asked_at >= _local_midnight(filters.date_from),
        QuestionLog.asked_at < _local_midnight(filters.date_to + timedelta(days=1)),
    )
    asked: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for asked_at, kind in (await session.execute(stmt)).all():
        week = week_label(local_day(asked_at))
        asked[week] += 1
        refused[week] += int(kind in REFUSED_KINDS)
    weeks: list[str] = []
    day = filters.date_from
    while day <= filters.date_to:
        label = week_label(day)
        if label not in weeks:
            weeks.append(label)
        day += timedelta(days=1)
    return [(week, asked[week], refused[week]) for week in weeks]
