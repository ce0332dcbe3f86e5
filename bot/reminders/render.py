"""What a reminder digest says: a channel-neutral notice (title, 事项, 截止时间, 状态, 单位, the detail and the
link; each channel maps it when it is sent) and the full text shown behind the link. All wording comes from
bot/texts.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot import texts
from bot.config import Config
from bot.outbound.notice import Notice, fields_of
from bot.outbound.notify import one_line

KIND_ORDER = {"catchup": 0, "escalate": 1, "overdue": 2, "due": 3, "before": 4}


@dataclass(frozen=True)
class Item:
    """One line of a digest: a task reminder (``kind`` before/due/overdue/escalate) or the catch-up note."""

    kind: str
    task_id: str = ""
    citation: str = ""
    title: str = ""
    due: date | None = None
    n: int = 0  # working days before (before) or after (overdue, escalate) the due day
    open_units: list[str] = field(default_factory=list)

    @property
    def family(self) -> str:
        return self.kind.split("-", 1)[0]


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def state_label(item: Item) -> str:
    labels = texts.REMINDER_KIND
    if item.family == "before":
        return labels["before"].format(n=item.n)
    if item.family == "overdue":
        return labels["overdue"].format(n=item.n)
    if item.family == "escalate":
        return labels["escalate"].format(count=len(item.open_units))
    return labels.get(item.family, item.family)


def sort_items(items: Sequence[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (KIND_ORDER.get(i.family, 9), i.due or date.max, i.task_id))


def detail_text(unit: str, name: str, items: Sequence[Item]) -> str:
    lines = [texts.REMINDER_DETAIL_HEADER.format(unit=unit, name=name or "")]
    for item in sort_items(items):
        if item.family == "catchup":
            lines.append(texts.REMINDER_DETAIL_CATCHUP)
        elif item.family == "casedigest":
            due = cn_date(item.due) if item.due else ""
            lines.append(texts.REMINDER_DETAIL_CASES.format(unit=item.task_id, count=item.n, due=due))
        elif item.family == "escalate":
            lines.append(
                texts.REMINDER_DETAIL_ESCALATE.format(
                    id=item.task_id,
                    citation=item.citation,
                    title=item.title,
                    due=cn_date(item.due) if item.due else "",
                    units="、".join(item.open_units),
                )
            )
        else:
            lines.append(
                texts.REMINDER_DETAIL_LINE.format(
                    id=item.task_id,
                    citation=item.citation,
                    title=item.title,
                    due=cn_date(item.due) if item.due else "",
                    state=state_label(item),
                )
            )
    lines.append(texts.REMINDER_DETAIL_FOOTER)
    return "\n".join(lines)


def summary_fields(unit: str, items: Sequence[Item]) -> dict[str, str]:
    """事项, 截止时间, 状态, 单位 — in the order of ``[reminders] template_keys``."""
    tasks = [i for i in items if i.family != "catchup"]
    dues = [i.due for i in tasks if i.due]
    if len(tasks) == 1 and not any(i.family == "catchup" for i in items):
        subject, status = tasks[0].title, state_label(tasks[0])
    else:
        overdue = sum(1 for i in tasks if i.family in ("overdue", "escalate"))
        subject = texts.REMINDER_MANY.format(count=len(tasks))
        status = (
            texts.REMINDER_KIND["catchup"]
            if any(i.family == "catchup" for i in items)
            else texts.REMINDER_SUMMARY.format(overdue=overdue, upcoming=len(tasks) - overdue)
        )
    return {
        texts.REMINDER_FIELD_SUBJECT: one_line(subject),
        texts.REMINDER_FIELD_DEADLINE: cn_date(min(dues)) if dues else "",
        texts.REMINDER_FIELD_STATUS: one_line(status),
        texts.REMINDER_FIELD_UNIT: one_line(unit),
    }


def render(config: Config, *, unit: str, name: str, items: Sequence[Item], url: str) -> tuple[Notice, str]:
    """The digest's notice and the full text for the page behind ``url``."""
    fields = summary_fields(unit, items)
    detail = detail_text(unit, name, items)
    dues = [i.due for i in items if i.family != "catchup" and i.due]
    due = min(dues) if dues else None
    typed: dict[str, str | date | None] = {**fields, texts.REMINDER_FIELD_DEADLINE: due}
    notice = Notice(
        texts.REMINDER_TITLE,
        fields_of(typed, ("text", "time", "status", "unit")),
        detail,
        url,
        todo=tuple(typed.values()),  # the to-do template by position, an empty deadline included
    )
    return notice, detail
