"""Working days: China's holidays and make-up workdays, year-end deadlines, the fallback after 2026."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from bot.tasks import workdays


def test_year_end_deadlines_fall_on_the_last_working_day() -> None:
    # 2023-12-30/31 were a weekend: "2023年底前" means Friday 2023-12-29.
    assert workdays.year_end_deadline(2023) == date(2023, 12, 29)
    assert workdays.year_end_deadline(2025) == date(2025, 12, 31)
    assert workdays.last_working_day_on_or_before(date(2023, 12, 31)) == date(2023, 12, 29)


def test_national_day_and_make_up_workdays() -> None:
    for day in range(1, 9):
        assert not workdays.is_working_day(date(2025, 10, day)), f"2025-10-0{day} is a holiday"
    assert workdays.is_working_day(date(2025, 9, 28))  # a Sunday worked to make up for the holiday
    assert workdays.is_working_day(date(2025, 10, 11))  # a Saturday worked
    assert workdays.is_working_day(date(2024, 10, 12))
    assert workdays.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert workdays.add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert workdays.next_working_day_on_or_after(date(2025, 10, 3)) == date(2025, 10, 9)
    assert workdays.working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1


def test_counting_matches_a_day_by_day_walk() -> None:
    start = date(2025, 1, 1)
    walk = [start + timedelta(days=i) for i in range(400) if workdays.is_working_day(start + timedelta(days=i))]
    for i, day in enumerate(walk):
        assert workdays.working_days_between(walk[0], day) == i
        assert workdays.add_working_days(walk[0], i) == day


def test_years_chinese_calendar_does_not_cover_use_the_fallback() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert workdays.source_for(2026) == "chinese-calendar"
    assert workdays.source_for(2027) == "holidays"
    assert not workdays.is_working_day(date(2027, 10, 1))  # National Day by rule
    assert not workdays.is_working_day(date(2027, 1, 1))
    assert workdays.is_working_day(date(2027, 1, 4))  # an ordinary Monday
    assert not workdays.is_working_day(date(2027, 1, 9))  # Saturday
    assert workdays.year_end_deadline(2027) == date(2027, 12, 31)
    # Counting across the boundary of the two sources still works.
    assert workdays.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_out_of_range_years_are_refused() -> None:
    with pytest.raises(ValueError, match="outside the supported range"):
        workdays.is_working_day(date(1900, 1, 1))
