"""New-case notices to a department: values named by what they are, written into the case template.

With ``[notices] case_template_id`` the values go to ``case_template_keys`` by name (case number →
``character_string``, category → ``thing``, …). Without it they go to the reminders' to-do template by
meaning rather than by position — 事项 "新举报YC…", 截止时间 the submit time, 状态 the category, 单位 the
county — so every value still fits its key's type.
"""

from __future__ import annotations

from datetime import datetime

from bot import texts
from bot.config import Config
from bot.outbound.notify import TemplateMessage, template_data, template_id_for
from bot.wechat.typed_values import Value, fit_values


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


def case_template(config: Config, values: dict[str, Value]) -> TemplateMessage:
    notices = config.notices
    if notices.case_template_id:
        return TemplateMessage(notices.case_template_id, fit_values(notices.case_template_keys, values))
    todo: dict[str, Value | None] = {
        texts.REMINDER_FIELD_SUBJECT: texts.REPORT_DEPT_TODO_SUBJECT.format(case_no=values["case_no"]),
        texts.REMINDER_FIELD_DEADLINE: values["time"],
        texts.REMINDER_FIELD_STATUS: values["category"],
        texts.REMINDER_FIELD_UNIT: values["county"],
    }
    return TemplateMessage(template_id_for(config), template_data(config, todo))
