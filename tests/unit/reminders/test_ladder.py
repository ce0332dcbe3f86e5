"""The ladder: which reminder on which working day, escalation, and when messages may go out."""

from __future__ import annotations

from datetime import date, timedelta

from bot.config import RemindersConfig
from bot.reminders.ladder import Ladder
from bot.tasks import workdays
from tests.unit.reminders.helpers import at

LADDER = Ladder.from_config(RemindersConfig())  # 30/7/1 before, escalate after 3, then every 5; 09:00–20:00


def test_rungs_before_on_and_after_the_deadline() -> None:
    due = date(2025, 12, 31)
    kinds = {}
    day = date(2025, 10, 1)
    while day <= date(2026, 2, 28):
        kind = LADDER.kind_on(due, day)
        if kind:
            kinds[day] = kind
        day += timedelta(days=1)
    assert kinds[workdays.add_working_days(due, -30)] == "before-30"
    assert kinds[workdays.add_working_days(due, -7)] == "before-7"
    assert kinds[date(2025, 12, 30)] == "before-1"
    assert kinds[due] == "due"
    overdue = [d for d, k in kinds.items() if k == "overdue"]
    offsets = [workdays.working_days_between(due, d) for d in overdue]
    assert offsets[:5] == [1, 2, 3, 8, 13]  # daily up to the escalation, then every 5 working days
    assert all(workdays.is_working_day(d) for d in kinds)
    assert len([k for k in kinds.values() if k.startswith("before")]) == 3


def test_escalation_days() -> None:
    assert [n for n in range(0, 20) if LADDER.escalates(n)] == [3, 8, 13, 18]


def test_has_rung_between_agrees_with_a_walk() -> None:
    due = date(2025, 10, 9)
    start = date(2025, 8, 1)
    days = [start + timedelta(days=i) for i in range(150)]
    for i in range(0, 150, 7):
        for span in (1, 3, 10, 40):
            first, last = days[i], days[min(i + span, 149)]
            window = [d for d in days if first <= d <= last]
            expected = any(LADDER.kind_on(due, d) for d in window)
            assert LADDER.has_rung_between(due, first, last) == expected, (first, last)
            esc = any(
                workdays.is_working_day(d) and LADDER.escalates(workdays.working_days_between(due, d)) for d in window
            )
            assert LADDER.has_rung_between(due, first, last, escalation=True) == esc, (first, last)


def test_sending_window_respects_holidays_quiet_hours_and_send_hour() -> None:
    assert LADDER.may_send(at(2025, 12, 30, 9, 0))
    assert not LADDER.may_send(at(2025, 12, 30, 8, 59))
    assert not LADDER.may_send(at(2025, 12, 30, 20, 0))  # quiet from 20:00
    assert not LADDER.may_send(at(2025, 10, 3, 10, 0))  # 国庆
    assert not LADDER.may_send(at(2025, 12, 27, 10, 0))  # Saturday
    # A reminder falling inside the National Day holiday moves to the next working day's opening.
    assert LADDER.next_send_time(at(2025, 10, 3, 10, 0)) == at(2025, 10, 9, 9, 0)
    assert LADDER.next_send_time(at(2025, 12, 30, 21, 0)) == at(2025, 12, 31, 9, 0)
    assert LADDER.next_send_time(at(2025, 12, 30, 7, 0)) == at(2025, 12, 30, 9, 0)
    assert LADDER.next_send_time(at(2025, 12, 30, 11, 0)) == at(2025, 12, 30, 11, 0)


def test_send_hour_inside_quiet_hours_waits_for_their_end() -> None:
    ladder = Ladder.from_config(RemindersConfig(send_hour="07:00", quiet_end="08:30"))
    assert ladder.send_at(date(2025, 12, 30)) == at(2025, 12, 30, 8, 30)
    assert not ladder.may_send(at(2025, 12, 30, 8, 0))
