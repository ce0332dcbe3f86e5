"""China's working days: statutory holidays and make-up workdays (调休), in the Asia/Shanghai calendar.

chinese-calendar knows the State Council's published arrangement for the years it covers (2004–2026 in
1.11) and raises for any other year; for those the ``holidays`` package's CN calendar stands in: the
statutory holidays by rule, weekends off, no make-up workdays (they are only known once published).
Every answer is cached per year, and working days are numbered so that "N working days before" and "how
many working days late" are a lookup, not a walk.
"""

from __future__ import annotations

import bisect
from datetime import date, timedelta
from functools import cache

import chinese_calendar
import holidays

FIRST_YEAR = 2000
LAST_YEAR = 2200


@cache
def _official_years() -> frozenset[int]:
    """The years chinese-calendar has published data for."""
    years = {day.year for day in chinese_calendar.holidays} | {day.year for day in chinese_calendar.workdays}
    return frozenset(years)


def source_for(year: int) -> str:
    """Where the working days of ``year`` come from: ``chinese-calendar`` or ``holidays`` (by rule)."""
    return "chinese-calendar" if year in _official_years() else "holidays"


@cache
def _working_days(year: int) -> tuple[date, ...]:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside the supported range {FIRST_YEAR}–{LAST_YEAR}")
    days = [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
    if year in _official_years():
        return tuple(d for d in days if chinese_calendar.is_workday(d))
    off = holidays.country_holidays("CN", years=year)
    return tuple(d for d in days if d.weekday() < 5 and d not in off)


@cache
def _offset(year: int) -> int:
    """How many working days there are from FIRST_YEAR up to the start of ``year``."""
    if year <= FIRST_YEAR:
        return 0
    return _offset(year - 1) + len(_working_days(year - 1))


def is_working_day(day: date) -> bool:
    days = _working_days(day.year)
    i = bisect.bisect_left(days, day)
    return i < len(days) and days[i] == day


def index_on_or_before(day: date) -> int:
    """The number of working days from FIRST_YEAR-01-01 through ``day``: equal for a non-working day and
    the working day before it, one more for each working day."""
    return _offset(day.year) + bisect.bisect_right(_working_days(day.year), day)


def day_at(index: int) -> date:
    """The working day numbered ``index`` (1-based, as counted by ``index_on_or_before``)."""
    if index < 1:
        raise ValueError("working-day index must be at least 1")
    year = FIRST_YEAR + max(0, (index - 1) // 260)
    while _offset(year) >= index:
        year -= 1
    while _offset(year + 1) < index:
        year += 1
    return _working_days(year)[index - _offset(year) - 1]


def last_working_day_on_or_before(day: date) -> date:
    return day_at(index_on_or_before(day))


def next_working_day_on_or_after(day: date) -> date:
    return day if is_working_day(day) else day_at(index_on_or_before(day) + 1)


def add_working_days(day: date, n: int) -> date:
    """The working day ``n`` working days after ``day`` (before it for negative ``n``).

    From a non-working day, +1 is the next working day and -1 the previous one.
    """
    if n == 0:
        return day
    base = index_on_or_before(day)
    if n > 0:
        return day_at(base + n)
    if not is_working_day(day):
        base += 1
    return day_at(base + n)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: how many working days ``end`` is after ``start`` (negative if before)."""
    return index_on_or_before(end) - index_on_or_before(start)


def year_end_deadline(year: int) -> date:
    """ "…年底（前）": the last working day on or before 31 December (2023 → 2023-12-29)."""
    return last_working_day_on_or_before(date(year, 12, 31))
