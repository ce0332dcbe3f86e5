"""The channel-neutral notice: what a message to an official says, before any channel's form.

A ``Notice`` is the outbox payload of every notice (new cases, reminder digests, unreachable contacts,
calendar warnings): a title, typed fields (label, value, kind), a detail text and a link. Each channel maps
it when the row is sent (``bot.outbound.mapping``): the 公众号 (and its sandbox) into the configured
template's keys, WeCom into a textcard. A new channel is one more mapping, not a new payload.

Field kinds say what a value is, so a channel can write it its own way: ``time`` (a date or a moment),
``code`` (a case number), ``status``, ``unit`` (a department or county), ``text``. A field may also carry
the ``name`` a named key map knows it by (``[notices] case_template_keys``: case_no, category, county, time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.wechat.typed_values import Value

KINDS = ("text", "time", "code", "status", "unit")
TODO, CASE = "todo", "case"  # the 公众号 template a notice goes in: the to-do template, or the case template
PAYLOAD_KEY = "notice"


@dataclass(frozen=True)
class Field:
    label: str
    value: Value
    kind: str = "text"
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field kind {self.kind!r} is not one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class Notice:
    """``todo``: the four values of the to-do template (事项, 截止时间, 状态, 单位) when they are not simply the
    fields in order (a new case: 事项 "新举报YC…", then time, category, county)."""

    title: str
    fields: tuple[Field, ...]
    detail: str = ""
    link: str = ""
    template: str = TODO
    todo: tuple[Value | None, ...] | None = None

    def values(self) -> dict[str, Value]:
        """``{name: value}`` of the named fields."""
        return {f.name: f.value for f in self.fields if f.name}

    def as_payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": self.title,
            "fields": [
                {"label": f.label, "kind": f.kind, "name": f.name, **_dump(f.value)} for f in self.fields
            ],
            "detail": self.detail,
            "link": self.link,
            "template": self.template,
        }
        if self.todo is not None:
            body["todo"] = [None if v is None else _dump(v) for v in self.todo]
        return {PAYLOAD_KEY: body}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Notice:
        """The notice stored by ``as_payload``; raises ``ValueError`` on a payload that is not one."""
        body = payload.get(PAYLOAD_KEY)
        if not isinstance(body, Mapping) or not isinstance(body.get("fields"), list):
            raise ValueError("not a notice payload")
        fields = tuple(
            Field(str(f["label"]), _load(f), str(f.get("kind") or "text"), str(f.get("name") or ""))
            for f in body["fields"]
        )
        todo = body.get("todo")
        return cls(
            title=str(body.get("title") or ""),
            fields=fields,
            detail=str(body.get("detail") or ""),
            link=str(body.get("link") or ""),
            template=str(body.get("template") or TODO),
            todo=None if todo is None else tuple(None if v is None else _load(v) for v in todo),
        )


def fields_of(labelled: Mapping[str, Value], kinds: Sequence[str] = ()) -> tuple[Field, ...]:
    """Fields from ``{label: value}`` in order, with ``kinds`` in the same order (text where none is given);
    None values are left out."""
    kinds = list(kinds)
    out = []
    for index, (label, value) in enumerate(labelled.items()):
        if value is None:
            continue
        out.append(Field(label, value, kinds[index] if index < len(kinds) else "text"))
    return tuple(out)


def _dump(value: Value) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"type": "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {"type": "date", "value": value.isoformat()}
    return {"type": "text", "value": str(value)}


def _load(item: Mapping[str, Any]) -> Value:
    kind, text = item.get("type"), str(item.get("value") or "")
    if kind == "datetime":
        return datetime.fromisoformat(text)
    if kind == "date":
        return date.fromisoformat(text)
    return text
