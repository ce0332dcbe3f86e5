"""The configured template key maps, checked against the values the service will put in them.

``[notices] case_template_keys`` and ``report_template_keys`` map a value's name (``case_no``, ``status`` …)
to a key of the template picked in the 公众号 admin; ``[reminders] template_keys`` lists keys by position
(事项, 截止时间, 状态, 单位). Each value the service can produce for a name is written in the key's type
(``bot.wechat.typed_values``); a value that cannot be is a configuration error naming the key, found at
start-up and by ``python -m bot config check`` rather than by WeChat's 47003 weeks later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from bot import texts
from bot.config import Config
from bot.reports import geo
from bot.reports.catalog import categories
from bot.wechat.limits import key_type
from bot.wechat.typed_values import Value, ValueMismatch, fit_value
from storage.report_queries import format_case_no

_SAMPLE_TIME = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
_LONGEST_CASE_NO = format_case_no(99_999_999, _SAMPLE_TIME, UTC)  # type: ignore[arg-type]


def case_samples() -> dict[str, list[Value]]:
    """Every kind of value a new-case notice carries, with the values it can take."""
    return {
        "case_no": [_LONGEST_CASE_NO],
        "category": [c.label for c in categories()],
        "county": [*geo.routing_targets(), texts.REPORT_COUNTY_PENDING],
        "time": [_SAMPLE_TIME],
    }


def report_samples() -> dict[str, list[Value]]:
    """Every kind of value a notice to the reporter carries."""
    return {
        "case_no": [_LONGEST_CASE_NO],
        "status": list(texts.REPORT_STATUS_PHRASES.values()),
        "unit": ["市生态环境局", *(geo.county_government(c) for c in geo.routing_targets())],
        "time": [_SAMPLE_TIME],
    }


def reminder_samples() -> list[list[Value]]:
    """事项, 截止时间, 状态, 单位 as the reminder digests (and the unreachable-contact notice) fill them."""
    return [
        ["开展新污染物调查监测评估工作（第一阶段）", texts.REMINDER_MANY.format(count=12)],
        [date(2026, 12, 31), _SAMPLE_TIME],
        [texts.REMINDER_SUMMARY.format(overdue=3, upcoming=9), texts.UNREACHABLE_REASON_UNFOLLOWED],
        ["市生态环境局", "运城开发区管委会"],
    ]


def _check(where: str, key: str, values: Iterable[Value]) -> list[str]:
    if key_type(key) is None:
        return [f"{where} = {key!r}: not a WeChat template key (a type such as thing, time or phrase and a number)"]
    for value in values:
        try:
            fit_value(key, value)
        except ValueMismatch as exc:
            return [f"{where} = {key!r}: {exc}"]
    return []


def check_named_map(section_key: str, keys: Mapping[str, str], samples: Mapping[str, list[Value]]) -> list[str]:
    problems = []
    unknown = sorted(set(keys) - set(samples))
    if unknown:
        problems.append(f"{section_key}: unknown value name(s) {', '.join(unknown)} (known: {', '.join(samples)})")
    if "case_no" not in keys:
        problems.append(f"{section_key}: needs a key for case_no")
    for name, key in keys.items():
        if name in samples:
            problems += _check(f"{section_key}.{name}", key, samples[name])
    return problems


def key_map_problems(config: Config) -> list[str]:
    """Every mismatch between a configured key map and the values it will receive (empty when all fit)."""
    notices = config.notices
    problems = check_named_map("[notices] case_template_keys", notices.case_template_keys, case_samples())
    problems += check_named_map("[notices] report_template_keys", notices.report_template_keys, report_samples())
    problems += check_named_map(
        "[notices] subscribe_template_keys", notices.subscribe_template_keys, report_samples()
    )
    for position, (key, values) in enumerate(zip(config.reminders.template_keys, reminder_samples(), strict=False)):
        problems += _check(f"[reminders] template_keys[{position}]", key, values)
    return problems
