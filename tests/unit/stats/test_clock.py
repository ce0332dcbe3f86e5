"""The case clocks: deadlines in local days, per-category rules, extensions, and bad settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cases.clock import CaseTimes, ClockConfigError, case_clock, deadline_after, rules_from_config
from bot.config import ReportsConfig

CATEGORIES = frozenset({"discharge", "pesticide", "other"})


def rules(**overrides: object):  # type: ignore[no-untyped-def]
    cfg = ReportsConfig()
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return rules_from_config(cfg, CATEGORIES)


def utc(month: int, day: int, hour: int = 2) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def test_deadline_is_the_end_of_the_last_local_day() -> None:
    # Received 1 Nov 23:30 local (15:30 UTC): day 1 is 2 Nov, day 15 is 16 Nov, ending 16:00 UTC.
    assert deadline_after(utc(11, 1, 15).replace(minute=30), 15) == utc(11, 16, 16)
    # Received 2 Nov 00:30 local (1 Nov 16:30 UTC): a local day later.
    assert deadline_after(datetime(2026, 11, 1, 16, 30, tzinfo=UTC), 15) == utc(11, 17, 16)


def test_waiting_case_runs_out_of_its_acceptance_clock() -> None:
    times = CaseTimes(created_at=utc(11, 1), status="submitted", category="discharge")
    before = case_clock(times, rules(), utc(11, 16, 15))
    assert before.stage == "accept" and not before.overdue and before.accept_on_time is None
    after = case_clock(times, rules(), utc(11, 16, 16))
    assert after.overdue and after.accept_on_time is False
    assert after.time_left(utc(11, 17, 16)).days == -1


def test_accepted_case_runs_on_the_completion_clock_with_extensions() -> None:
    times = CaseTimes(
        created_at=utc(9, 1), status="investigating", category="discharge", decided_at=utc(9, 3), accepted_at=utc(9, 3)
    )
    clock = case_clock(times, rules(), utc(11, 3))
    assert clock.stage == "complete" and clock.accept_on_time is True
    assert clock.complete_due == utc(11, 2, 16) and clock.overdue and clock.complete_on_time is False
    extended = case_clock(
        CaseTimes(**{**times.__dict__, "extension_days": 30}),
        rules(),
        utc(11, 3),  # type: ignore[arg-type]
    )
    assert not extended.overdue and extended.complete_due == utc(12, 2, 16)


def test_resolved_and_rejected_cases_stop_their_clocks() -> None:
    resolved = CaseTimes(
        created_at=utc(9, 1),
        status="resolved",
        category="discharge",
        decided_at=utc(9, 2),
        accepted_at=utc(9, 2),
        resolved_at=utc(9, 20),
    )
    clock = case_clock(resolved, rules(), utc(12, 30))
    assert clock.stage == "stopped" and not clock.overdue and clock.complete_on_time is True
    rejected = CaseTimes(created_at=utc(9, 1), status="rejected", category="other", decided_at=utc(9, 30))
    clock = case_clock(rejected, rules(), utc(12, 30))
    assert clock.stage == "stopped" and clock.accept_on_time is False and clock.complete_due is None


def test_category_rule_overrides_the_default_and_keeps_its_basis() -> None:
    custom = rules(category_clocks={"pesticide": {"accept_days": 7, "basis": "农业执法规定：7日内受理"}})
    assert custom.for_category("pesticide").accept_days == 7
    assert custom.for_category("pesticide").complete_days == 60
    assert custom.for_category("pesticide").basis == "农业执法规定：7日内受理"
    assert custom.for_category("discharge").accept_days == 15
    assert "信访工作条例" in custom.for_category("discharge").basis


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"accept_days": 0}, "[reports] accept_days"),
        ({"complete_days": "sixty"}, "[reports] complete_days"),
        ({"category_clocks": {"noise": {"accept_days": 5}}}, "unknown category"),
        ({"category_clocks": {"pesticide": {"accept_day": 5}}}, "accept_day: unknown key"),
        ({"category_clocks": {"pesticide": {"basis": " "}}}, "basis"),
        ({"category_clocks": {"pesticide": 5}}, "must be a table"),
        ({"max_extension_days": -1}, "max_extension_days"),
    ],
)
def test_bad_clock_settings_are_named(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ClockConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        rules(**overrides)
