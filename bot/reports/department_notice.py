"""New-case notices to a department: a channel-neutral notice whose values are named by what they are.

On the 公众号, with ``[notices] case_template_id`` the values go to ``case_template_keys`` by name (case
number → ``character_string``, category → ``thing``, …). Without it they go to the reminders' to-do
template by meaning rather than by position — 事项 "新举报YC…", 截止时间 the submit time, 状态 the category,
单位 the county — so every value still fits its key's type (``bot.outbound.mapping``).
"""

from __future__ import annotations

from datetime import datetime

from bot import texts
from bot.config import Config
from bot.outbound.mapping import mp_template
from bot.outbound.notice import CASE, Field, Notice
from bot.outbound.notify import TemplateMessage
from bot.wechat.typed_values import Value


def case_values(case_no: str, category: str, county: str, submitted: datetime) -> dict[str, Value]:
    """The values of a new-case notice by name (``submitted`` in local time)."""
    return {
        "case_no": case_no,
        "category": category,
        "county": county or texts.REPORT_COUNTY_PENDING,
        "time": submitted.replace(second=0, microsecond=0),
    }


def labelled(values: dict[str, Value]) -> dict[str, Value]:
    """The same values under their labels, for textcards and pages."""
    return {
        texts.REPORT_DEPT_FIELD_CASE: values["case_no"],
        texts.REPORT_DEPT_FIELD_CATEGORY: values["category"],
        texts.REPORT_DEPT_FIELD_COUNTY: values["county"],
        texts.REPORT_DEPT_FIELD_TIME: values["time"],
    }


def case_notice(values: dict[str, Value], *, title: str, detail: str, url: str) -> Notice:
    """The notice of a new (or transferred) case, from ``case_values``."""
    fields = (
        Field(texts.REPORT_DEPT_FIELD_CASE, values["case_no"], "code", "case_no"),
        Field(texts.REPORT_DEPT_FIELD_CATEGORY, values["category"], "text", "category"),
        Field(texts.REPORT_DEPT_FIELD_COUNTY, values["county"], "unit", "county"),
        Field(texts.REPORT_DEPT_FIELD_TIME, values["time"], "time", "time"),
    )
    todo = (
        texts.REPORT_DEPT_TODO_SUBJECT.format(case_no=values["case_no"]),
        values["time"],
        values["category"],
        values["county"],
    )
    return Notice(title, fields, detail, url, template=CASE, todo=todo)


def case_template(config: Config, values: dict[str, Value]) -> TemplateMessage:
    """The 公众号 template message of a case notice (its id and typed data)."""
    template_id, data = mp_template(config, case_notice(values, title="", detail="", url=""))
    return TemplateMessage(template_id, data)
