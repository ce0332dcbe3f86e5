"""The two clocks of a case: a decision on acceptance, then completion after acceptance.

A report must get an acceptance decision (accepted, rejected or merged as a duplicate) within
``accept_days`` calendar days of its receipt, and once accepted it must be resolved within
``complete_days`` calendar days of the acceptance, plus any recorded extensions. Days are counted in
local time (Asia/Shanghai) from the day after the event: a deadline falls at the end of the last day.
The limits and the rule they come from are configurable per category (``[reports]`` in the config).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.catalog import categories

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DECISION_STATUSES = frozenset({"accepted", "rejected", "duplicate"})
RESOLVED_STATUSES = frozenset({"resolved", "closed"})
CLOCK_KEYS = frozenset({"accept_days", "complete_days", "basis"})


class ClockConfigError(ValueError):
    """A clock setting that cannot be used; the message names the key."""


@dataclass(frozen=True)
class ClockRule:
    accept_days: int
    complete_days: int
    basis: str


@dataclass(frozen=True)
class ClockRules:
    """The default rule and the per-category overrides, as read from ``[reports]``."""

    default: ClockRule
    by_category: dict[str, ClockRule]
    max_extension_days: int

    def for_category(self, category: str) -> ClockRule:
        return self.by_category.get(category, self.default)


def _days(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
        raise ClockConfigError(f"{where}: must be a whole number of days between 1 and 365")
    return value


def rules_from_config(reports: Any, categories: set[str] | frozenset[str]) -> ClockRules:
    """Build the rules from ``config.reports``; unknown categories and bad values raise ClockConfigError."""
    default = ClockRule(
        _days(reports.accept_days, "[reports] accept_days"),
        _days(reports.complete_days, "[reports] complete_days"),
        str(reports.clock_basis),
    )
    max_extension = reports.max_extension_days
    if isinstance(max_extension, bool) or not isinstance(max_extension, int) or not 0 <= max_extension <= 365:
        raise ClockConfigError("[reports] max_extension_days: must be a whole number of days between 0 and 365")
    weekday = reports.overdue_digest_weekday
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 7:
        raise ClockConfigError("[reports] overdue_digest_weekday: must be 0 (off) or 1 (Monday) to 7 (Sunday)")
    overrides = reports.category_clocks
    if not isinstance(overrides, dict):
        raise ClockConfigError("[reports.category_clocks] must be a table of categories")
    by_category: dict[str, ClockRule] = {}
    for code, raw in overrides.items():
        where = f"[reports.category_clocks.{code}]"
        if code not in categories:
            raise ClockConfigError(f"{where}: unknown category (known: {', '.join(sorted(categories))})")
        if not isinstance(raw, dict):
            raise ClockConfigError(f"{where}: must be a table")
        unknown = set(raw) - CLOCK_KEYS
        if unknown:
            known = ", ".join(sorted(CLOCK_KEYS))
            raise ClockConfigError(f"{where} {sorted(unknown)[0]}: unknown key (known: {known})")
        basis = raw.get("basis", default.basis)
        if not isinstance(basis, str) or not basis.strip():
            raise ClockConfigError(f"{where} basis: must be a non-empty text")
        by_category[code] = ClockRule(
            _days(raw.get("accept_days", default.accept_days), f"{where} accept_days"),
            _days(raw.get("complete_days", default.complete_days), f"{where} complete_days"),
            basis,
        )
    return ClockRules(default=default, by_category=by_category, max_extension_days=max_extension)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_day(value: datetime) -> date:
    return _aware(value).astimezone(LOCAL_TZ).date()


def deadline_after(start: datetime, days: int) -> datetime:
    """The end of the ``days``-th local day after ``start`` (as UTC): the moment the clock runs out."""
    last = local_day(start) + timedelta(days=days + 1)
    return datetime.combine(last, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


@dataclass(frozen=True)
class CaseTimes:
    """What the clocks need from a report and its history (first times each status was reached)."""

    created_at: datetime
    status: str
    category: str
    decided_at: datetime | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    extension_days: int = 0


@dataclass(frozen=True)
class CaseClock:
    """Where a case stands against its clocks at ``now``.

    ``stage``: ``accept`` (waiting for a decision), ``complete`` (accepted, not yet resolved) or ``stopped``
    (resolved, rejected, closed or merged). ``due_at`` is the running clock's deadline (None when stopped);
    ``accept_on_time`` / ``complete_on_time`` are None while that clock has neither stopped nor run out.
    """

    stage: str
    rule: ClockRule
    accept_due: datetime
    complete_due: datetime | None
    due_at: datetime | None
    overdue: bool
    accept_on_time: bool | None
    complete_on_time: bool | None

    def time_left(self, now: datetime) -> timedelta | None:
        return None if self.due_at is None else self.due_at - _aware(now)


def case_clock(times: CaseTimes, rules: ClockRules, now: datetime) -> CaseClock:
    now = _aware(now)
    rule = rules.for_category(times.category)
    accept_due = deadline_after(times.created_at, rule.accept_days)
    decided = _aware(times.decided_at) if times.decided_at else None
    accept_on_time: bool | None = None
    if decided is not None:
        accept_on_time = decided < accept_due
    elif now >= accept_due:
        accept_on_time = False
    complete_due = None
    complete_on_time: bool | None = None
    if times.accepted_at is not None:
        complete_due = deadline_after(times.accepted_at, rule.complete_days + max(0, times.extension_days))
        resolved = _aware(times.resolved_at) if times.resolved_at else None
        if resolved is not None:
            complete_on_time = resolved < complete_due
        elif now >= complete_due:
            complete_on_time = False
    if times.status == "submitted" or (decided is None and times.status not in RESOLVED_STATUSES):
        stage, due = "accept", accept_due
    elif times.status in {"accepted", "investigating"} and complete_due is not None:
        stage, due = "complete", complete_due
    else:
        stage, due = "stopped", None
    return CaseClock(
        stage=stage,
        rule=rule,
        accept_due=accept_due,
        complete_due=complete_due,
        due_at=due,
        overdue=due is not None and now >= due,
        accept_on_time=accept_on_time,
        complete_on_time=complete_on_time,
    )


def clock_rules(config: Any) -> ClockRules:
    """The rules of this configuration (categories from the reports catalogue)."""
    return rules_from_config(config.reports, frozenset(c.code for c in categories()))
