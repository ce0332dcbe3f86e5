"""China's working days: statutory holidays and make-up workdays (调休), in the Asia/Shanghai calendar.

Where a year's arrangement comes from, in order: knowledge/data/workdays.toml (the State Council's
notices as data), then chinese-calendar (2004–2026 in 1.11); a year neither knows counts Monday to
Friday as working days (holidays by rule would still miss the make-up Saturdays, which are only known once
published), and ``covered_until`` says up to when the calendar is exact, so the operator is warned.
Every answer is cached per year, and working days are numbered so that "N working days before" and "how
many working days late" are a lookup, not a walk.
"""

from __future__ import annotations

import bisect
import logging
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar

from knowledge import workdays as workdays_data

log = logging.getLogger(__name__)

FIRST_YEAR = 2000
LAST_YEAR = 2200


@cache
def _official_years() -> frozenset[int]:
    """The years chinese-calendar has published data for."""
    years = {day.year for day in chinese_calendar.holidays} | {day.year for day in chinese_calendar.workdays}
    return frozenset(years)


@cache
def _data_years() -> dict[int, workdays_data.YearDays]:
    """The years workdays.toml lists; a malformed file is logged and ignored (``kb check`` names the line)."""
    try:
        return workdays_data.load(_data_file)
    except workdays_data.WorkdaysError as exc:
        log.error("working-day data not used: %s", exc)
        return {}


_data_file: Path | None = None


def use_data_file(path: Path | None) -> None:
    """Read the working-day data from ``path`` (None: knowledge/data/workdays.toml) and forget cached years."""
    global _data_file
    _data_file = path
    for cached in (_data_years, _working_days, _offset):
        cached.cache_clear()


def source_for(year: int) -> str:
    """Where the working days of ``year`` come from: ``workdays.toml``, ``chinese-calendar`` or ``weekdays``."""
    if year in _data_years():
        return workdays_data.WORKDAYS_FILE
    return "chinese-calendar" if year in _official_years() else "weekdays"


def is_covered(year: int) -> bool:
    """True when the official arrangement of ``year`` is known (not the Monday–Friday stand-in)."""
    return source_for(year) != "weekdays"


def covered_until(today: date) -> date | None:
    """The last day up to which every year from ``today``'s on is covered; None when ``today``'s is not."""
    year = today.year
    if not is_covered(year):
        return None
    while is_covered(year + 1):
        year += 1
    return date(year, 12, 31)


@cache
def _working_days(year: int) -> tuple[date, ...]:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside the supported range {FIRST_YEAR}–{LAST_YEAR}")
    days = [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
    if data := _data_years().get(year):
        return tuple(d for d in days if data.is_working_day(d))
    if year in _official_years():
        return tuple(d for d in days if chinese_calendar.is_workday(d))
    return tuple(d for d in days if d.weekday() < 5)


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
