"""The reminder ladder and the sending window, from ``[reminders]``: pure functions of dates and times.

For an occurrence due on working day D, a department that has not finished gets, on working days only:
``before-N`` N working days before D (for each N in ``before_working_days``), ``due`` on D, then
``overdue`` on each of the first ``escalate_after_working_days`` working days after D and every
``slow_cadence_working_days`` working days after that. On the day the overdue count reaches
``escalate_after_working_days``, and at the slow cadence after it, the lead unit gets an ``escalate``.
Messages go out on working days, from ``send_hour`` and outside the quiet hours, in ``timezone``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import RemindersConfig
from bot.tasks import workdays


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Ladder:
    tz: ZoneInfo
    before: tuple[int, ...]
    escalate_after: int
    slow: int
    send_time: time
    quiet_start: time
    quiet_end: time
    grace_days: int

    @classmethod
    def from_config(cls, cfg: RemindersConfig) -> Ladder:
        return cls(
            tz=ZoneInfo(cfg.timezone),
            before=tuple(sorted(set(cfg.before_working_days), reverse=True)),
            escalate_after=cfg.escalate_after_working_days,
            slow=cfg.slow_cadence_working_days,
            send_time=_hhmm(cfg.send_hour),
            quiet_start=_hhmm(cfg.quiet_start),
            quiet_end=_hhmm(cfg.quiet_end),
            grace_days=cfg.catch_up_grace_days,
        )

    @property
    def horizon(self) -> int:
        """How many working days ahead of a deadline the first reminder comes."""
        return max(self.before, default=0)

    # ---- which reminder on which day ----

    def overdue_rung(self, n: int) -> bool:
        """True when a department ``n`` working days late is reminded that day."""
        return n >= 1 and (n <= self.escalate_after or (n - self.escalate_after) % self.slow == 0)

    def escalates(self, n: int) -> bool:
        return n >= self.escalate_after and (n - self.escalate_after) % self.slow == 0

    def kind_at(self, offset: int) -> str | None:
        """The department's reminder on the working day ``offset`` working days after the due day."""
        if offset == 0:
            return "due"
        if offset < 0:
            return f"before-{-offset}" if -offset in self.before else None
        return "overdue" if self.overdue_rung(offset) else None

    def kind_on(self, due: date, day: date) -> str | None:
        """The department reminder on ``day`` (None on a non-working day or off the ladder)."""
        if not workdays.is_working_day(day):
            return None
        return self.kind_at(workdays.working_days_between(due, day))

    def has_rung_between(self, due: date, first: date, last: date, *, escalation: bool = False) -> bool:
        """Whether any department reminder (or, with ``escalation``, any escalation) falls on a working
        day in [first, last]."""
        start = workdays.next_working_day_on_or_after(first)
        if start > last:
            return False
        lo = workdays.working_days_between(due, start)
        hi = workdays.working_days_between(due, last)
        if escalation:
            m = max(lo, self.escalate_after)
        else:
            if any(lo <= -k <= hi for k in self.before) or lo <= 0 <= hi:
                return True
            m = max(lo, 1)
            if m <= self.escalate_after:
                return m <= hi
        m += (self.slow - (m - self.escalate_after) % self.slow) % self.slow
        return m <= hi

    # ---- when messages may go out ----

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def today(self, now: datetime) -> date:
        return self.local(now).date()

    def is_quiet(self, at: time) -> bool:
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= at < self.quiet_end
        return at >= self.quiet_start or at < self.quiet_end

    def day_opens(self, day: date) -> time:
        """The first moment of ``day`` when messages may go: ``send_hour``, or the end of the quiet hours."""
        start = self.send_time
        if self.is_quiet(start) and self.quiet_end > start:
            start = self.quiet_end
        return start

    def send_at(self, day: date) -> datetime:
        """When reminders planned for ``day`` become due (UTC)."""
        return datetime.combine(day, self.day_opens(day), self.tz).astimezone(UTC)

    def may_send(self, now: datetime) -> bool:
        """True on a working day, from the day's opening time, outside the quiet hours."""
        moment = self.local(now)
        at = moment.time()
        return workdays.is_working_day(moment.date()) and at >= self.day_opens(moment.date()) and not self.is_quiet(at)

    def next_send_time(self, after: datetime) -> datetime:
        """The first moment at or after ``after`` when messages may go (a reminder planned inside a
        holiday or the quiet hours moves to the next opening)."""
        if self.may_send(after):
            return after
        moment = self.local(after)
        day = moment.date()
        if workdays.is_working_day(day) and moment.time() < self.day_opens(day):
            return self.send_at(day)
        return self.send_at(workdays.next_working_day_on_or_after(day + timedelta(days=1)))
