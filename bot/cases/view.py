"""A case clock as staff read it: stage, deadline, time left (or overdue by), the rule's basis."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import texts
from bot.cases.clock import CaseClock, local_day


@dataclass(frozen=True)
class ClockView:
    stage: str
    stage_label: str
    due_day: str  # the last local day, YYYY-MM-DD ("" when stopped)
    overdue: bool
    left_seconds: float | None
    left_text: str
    basis: str
    accept_days: int
    complete_days: int


def last_day(due_at: datetime) -> str:
    return local_day(due_at - timedelta(seconds=1)).isoformat()


def left_text(left: timedelta | None) -> str:
    if left is None:
        return ""
    seconds = left.total_seconds()
    if seconds <= 0:
        return texts.CLOCK_OVERDUE_BY.format(days=max(1, math.ceil(-seconds / 86400)))
    if seconds < 86400:
        return texts.CLOCK_LEFT_HOURS
    return texts.CLOCK_LEFT.format(days=int(seconds // 86400))


def view_of(clock: CaseClock, now: datetime) -> ClockView:
    left = clock.time_left(now)
    return ClockView(
        stage=clock.stage,
        stage_label=texts.CLOCK_STAGES[clock.stage],
        due_day=last_day(clock.due_at) if clock.due_at else "",
        overdue=clock.overdue,
        left_seconds=None if left is None else left.total_seconds(),
        left_text=left_text(left),
        basis=clock.rule.basis,
        accept_days=clock.rule.accept_days,
        complete_days=clock.rule.complete_days,
    )
