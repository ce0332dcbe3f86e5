"""What the fields of the service's 公众号 template messages mean, from the configured key maps.

A template message carries only field keys (``thing1``, ``time2`` …); their meaning is fixed by the
template picked in the 公众号 admin and configured as an ordered key list (``[reminders] template_keys``:
事项, 截止时间, 状态, 单位). Each configured template is one ``TemplateSpec``; a template message is shown the
way WeChat shows it — the template's title and "label：value" lines — by ``describe``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.config import Config
from bot.outbound.notify import template_id_for

REMINDER_LABELS: tuple[str, ...] = (
    texts.REMINDER_FIELD_SUBJECT,
    texts.REMINDER_FIELD_DEADLINE,
    texts.REMINDER_FIELD_STATUS,
    texts.REMINDER_FIELD_UNIT,
)


@dataclass(frozen=True)
class TemplateSpec:
    """One configured template: the section it is configured in, its title, id and (key, label) pairs."""

    section: str
    title: str
    template_id: str
    fields: tuple[tuple[str, str], ...]

    def label(self, key: str) -> str:
        return next((label for k, label in self.fields if k == key), key)

    def fits(self, template_id: str, keys: Sequence[str]) -> bool:
        known = {k for k, _label in self.fields}
        return template_id == self.template_id and all(k in known for k in keys)


def key_map(section: str, title: str, template_id: str, keys: Sequence[str], labels: Sequence[str]) -> TemplateSpec:
    """A spec from a configured key list and the labels of its positions (extra keys keep their name)."""
    fields = tuple((key, labels[i] if i < len(labels) else key) for i, key in enumerate(keys))
    return TemplateSpec(section, title, template_id, fields)


def template_specs(config: Config) -> list[TemplateSpec]:
    """Every template the service is configured to send."""
    return [
        key_map(
            "reminders", texts.REMINDER_TITLE, template_id_for(config), config.reminders.template_keys, REMINDER_LABELS
        ),
    ]


def plain_value(value: Any) -> str:
    """Template data may be stored as a plain string or as WeChat's {"value": …}."""
    if isinstance(value, dict) and "value" in value:
        return str(value["value"])
    return str(value)


def describe(specs: Sequence[TemplateSpec], template_id: str, data: Mapping[str, Any]) -> tuple[str, list[str]]:
    """(title, lines) of a template message: labelled when its template is configured, else keys as sent."""
    spec = next((s for s in specs if s.fits(template_id, list(data))), None)
    if spec is None:
        return template_id, [f"{key}：{plain_value(value)}" for key, value in data.items()]
    return spec.title, [f"{spec.label(key)}：{plain_value(value)}" for key, value in data.items()]
