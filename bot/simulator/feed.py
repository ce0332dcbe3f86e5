"""What the service 'sent' to a user through the sandbox channels, rendered for the simulator page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from bot import texts
from bot.outbound.channels.sandbox_rules import REFUSED
from bot.outbound.template_labels import TemplateSpec, describe, plain_value
from storage.db import Database
from storage.models import SandboxMessage

PAGE_SIZE = 100
CHANNEL_LABELS = {"mp": "公众号", "wecom": "企业微信"}


def render(row: SandboxMessage, templates: Sequence[TemplateSpec] = ()) -> dict[str, Any]:
    """One sandbox message as a card: a kind label, a title, lines of text and an optional link.

    A template message of a configured template shows its title and field labels, as WeChat shows it.
    """
    payload = row.payload or {}
    item: dict[str, Any] = {
        "id": row.id,
        "channel": CHANNEL_LABELS.get(row.channel, row.channel),
        "kind": row.kind,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "title": "",
        "lines": [],
        "url": "",
    }
    if row.kind == "text":
        item["label"] = texts.SIM_KIND_TEXT if row.channel == "mp" else texts.SIM_KIND_TEXTCARD
        item["lines"] = [str(payload.get("content", ""))]
    elif row.kind == "template":
        item["label"] = texts.SIM_KIND_TEMPLATE
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        item["title"], item["lines"] = describe(templates, str(payload.get("template_id") or ""), data)
        item["url"] = str(payload.get("url") or "")
    elif row.kind == "textcard":
        item["label"] = texts.SIM_KIND_TEXTCARD
        item["title"] = str(payload.get("title", ""))
        item["lines"] = [str(payload.get("description", ""))]
        item["url"] = str(payload.get("url") or "")
    elif row.kind == "subscribe":
        item["label"] = texts.SIM_KIND_SUBSCRIBE
        item["title"] = str(payload.get("template_id") or "")
        data = payload.get("data") or {}
        pairs = data.items() if isinstance(data, dict) else []
        item["lines"] = [f"{key}：{plain_value(value)}" for key, value in pairs]
        item["url"] = str(payload.get("url") or "")
    else:
        item["label"] = texts.SIM_KIND_OTHER
        item["lines"] = [f"{key}：{plain_value(value)}" for key, value in payload.items() if key != REFUSED]
    refused = payload.get(REFUSED)
    if isinstance(refused, dict):
        item["label"] = texts.SIM_REFUSED.format(label=item["label"])
        item["refused"] = texts.SIM_REFUSED_DETAIL.format(errcode=refused.get("errcode"), errmsg=refused.get("errmsg"))
    return item


async def messages_for(
    database: Database, recipient: str, after: int, templates: Sequence[TemplateSpec] = ()
) -> list[dict[str, Any]]:
    async with database.session() as session:
        rows = await session.scalars(
            select(SandboxMessage)
            .where(SandboxMessage.recipient == recipient, SandboxMessage.id > after)
            .order_by(SandboxMessage.id)
            .limit(PAGE_SIZE)
        )
        return [render(row, templates) for row in rows]
