"""Each channel's form of a notice (``bot.outbound.notice``), made when the outbox row is sent.

* 公众号 (``mp``, and the sandbox standing in for it): a template message. A case notice goes into ``[notices]
  case_template_id`` by its fields' names (``case_template_keys``); every other notice, and a case notice
  without that template, goes into the to-do template ``[reminders] template_id`` by position
  (``template_keys``: 事项, 截止时间, 状态, 单位). Each value is written in its key's type
  (``bot.wechat.typed_values``): one line, at most 20 characters for a ``thing`` key, details behind the link.
* WeCom (``wecom``): a textcard — the title, "label：value" lines and the detail, within WeCom's byte limits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from bot.config import Config
from bot.outbound.channels.sandbox_rules import SANDBOX_TEMPLATE_ID
from bot.outbound.notice import CASE, Notice
from bot.wechat.typed_values import Value, ValueMismatch, display, fit_values

log = logging.getLogger(__name__)

TEMPLATE_FIELD_MAX = 20
TEXTCARD_TITLE_MAX_BYTES = 128
TEXTCARD_DESCRIPTION_MAX_BYTES = 512
_WHITESPACE = re.compile(r"\s+")


def one_line(value: object, limit: int = TEMPLATE_FIELD_MAX) -> str:
    """A template field value: line breaks and runs of spaces become one space; longer values end in "…"."""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary, ending in "…" when cut."""
    if len(text.encode("utf-8")) <= limit:
        return text
    budget = limit - len("…".encode())
    out = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return out + "…"


def template_id_for(config: Config) -> str:
    """The configured to-do template; the sandbox records messages without one, so it gets a placeholder."""
    return config.reminders.template_id or (SANDBOX_TEMPLATE_ID if config.uses_sandbox else "")


def template_data(config: Config, fields: Mapping[str, Value | None]) -> dict[str, str]:
    """Positional mapping of labelled values onto ``[reminders] template_keys``, each written in its key's
    type (``bot.wechat.typed_values``); empty values are left out."""
    data: dict[str, str] = {}
    for (label, value), key in zip(fields.items(), config.reminders.template_keys, strict=False):
        try:
            data.update(fit_values({label: key}, {label: value}))
        except ValueMismatch as exc:  # left empty rather than refused by WeChat (the url has the details)
            log.error("notice field %s left out: %s", label, exc)
    return data


def textcard(title: str, fields: Mapping[str, Value], detail: str, url: str) -> dict[str, str]:
    lines = [f"{label}：{display(value)}" for label, value in fields.items()]
    if detail:
        lines.append(detail.strip())
    return {
        "title": clip_bytes(one_line(title, 200), TEXTCARD_TITLE_MAX_BYTES),
        "description": clip_bytes("\n".join(lines), TEXTCARD_DESCRIPTION_MAX_BYTES),
        "url": url,
    }


def mp_template_id(config: Config, notice: Notice) -> str:
    """The 公众号 template the notice goes into ("" when none is configured)."""
    if notice.template == CASE and config.notices.case_template_id:
        return config.notices.case_template_id
    return template_id_for(config)


def mp_template(config: Config, notice: Notice) -> tuple[str, dict[str, str]]:
    """(template id, data) of the notice's 公众号 template message; raises ``ValueMismatch`` when a named
    value does not fit its key (``python -m bot config check`` finds that before WeChat would)."""
    if notice.template == CASE and config.notices.case_template_id:
        return config.notices.case_template_id, fit_values(config.notices.case_template_keys, notice.values())
    if notice.todo is not None:
        positional: dict[str, Value | None] = {str(i): v for i, v in enumerate(notice.todo)}
    else:
        positional = {f.label: f.value for f in notice.fields}
    return template_id_for(config), template_data(config, positional)


def render(config: Config, channel: str, notice: Notice) -> tuple[str, dict[str, Any]]:
    """(kind, payload) of the notice on ``channel``: ``template`` (mp) or ``textcard`` (wecom)."""
    if channel == "wecom":
        return "textcard", textcard(notice.title, {f.label: f.value for f in notice.fields}, notice.detail, notice.link)
    template_id, data = mp_template(config, notice)
    return "template", {"template_id": template_id, "data": data, "url": notice.link}
