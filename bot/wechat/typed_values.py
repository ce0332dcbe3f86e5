"""Values shaped for WeChat's typed template keys (``thing1``, ``time2``, ``phrase3`` …).

A notice knows what each of its values *is* (a case number, a status, a moment); the template's key says
which type WeChat expects. ``fit_value`` writes the value in that type's form — a moment as
"2026年11月20日 10:00" for a ``time`` key or "2026年11月20日" for a ``date`` key, free text cut to 20
characters for ``thing`` — and raises ``ValueMismatch`` when no honest form exists (a status of six
characters for a ``phrase`` key, Chinese text for a ``character_string`` key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from bot.wechat.limits import key_type, type_rule, value_problem

THING_MAX = 20
STRING_MAX = 32
_SPACES = re.compile(r"\s+")

Value = str | date | datetime


class ValueMismatch(ValueError):
    """A value cannot be written in its key's type; the message names the key."""

    def __init__(self, key: str, value: object, rule: str) -> None:
        super().__init__(f"template key {key}: {value!r} cannot be written as {rule}")
        self.key = key


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def display(value: Value) -> str:
    """A value as a person reads it in free text (a textcard line, a page)."""
    if isinstance(value, datetime):
        return f"{cn_date(value)} {value:%H:%M}"
    if isinstance(value, date):
        return cn_date(value)
    return _SPACES.sub(" ", value).strip()


def fit_value(key: str, value: Value, *, end_of_day: str = "23:59") -> str:
    """``value`` in the form ``key``'s type requires. A bare date for a ``time`` key reads as that day's
    ``end_of_day`` (a deadline)."""
    kind = key_type(key)
    if isinstance(value, datetime):
        text = f"{cn_date(value)} {value:%H:%M}" if kind == "time" else cn_date(value) if kind == "date" else ""
        text = text or f"{cn_date(value)} {value:%H:%M}"
    elif isinstance(value, date):
        text = f"{cn_date(value)} {end_of_day}" if kind == "time" else cn_date(value)
    else:
        text = _SPACES.sub(" ", str(value)).strip()
    if kind == "thing" and len(text) > THING_MAX:
        text = text[: THING_MAX - 1] + "…"
    elif kind == "character_string" and len(text) > STRING_MAX:
        text = text[:STRING_MAX]
    if value_problem(key, text) is not None:
        raise ValueMismatch(key, value, type_rule(key))
    return text


def fit_values(keys: Mapping[str, str], values: Mapping[str, Value | None]) -> dict[str, str]:
    """``{semantic name: key}`` and ``{semantic name: value}`` → ``{key: typed value}``; empty values and
    names without a key are left out (WeChat shows the field empty; details are behind the url)."""
    data: dict[str, str] = {}
    for name, value in values.items():
        key = keys.get(name)
        if not key or value is None or value == "":
            continue
        data[key] = fit_value(key, value)
    return data
